/* sns.h — Amazon SNS HTTP(S) messages (SES inbound mail arrives this way): SignatureVersion 1
 * (SHA1withRSA) and 2 (SHA256withRSA) over the canonical string of the JSON body. */
#ifndef CTGW_SNS_H
#define CTGW_SNS_H

#include <stdbool.h>
#include <stddef.h>

#include "verifiers/verifier.h"

/* SigningCertURL hosts SNS uses: sns.<region>.amazonaws.com, one label for the region. The
 * China regions (sns.<region>.amazonaws.com.cn) need "sns.*.amazonaws.com.cn" configured. */
#define GW_SNS_DEFAULT_CERT_HOST_PATTERN "sns.*.amazonaws.com"
/* Replay window when in->tolerance_s is 0: SNS retries an HTTP delivery for at most an hour
 * with the Timestamp it first signed, so a shorter default would refuse its own retries. */
#define GW_SNS_DEFAULT_TOLERANCE_S 3600
#define GW_SNS_BODY_MAX            (1024 * 1024) /* SNS messages are at most 256 KiB + envelope */
#define GW_SNS_CERT_URL_MAX        1024
/* Longest Signature read: base64 of an 8192-bit RSA signature. */
#define GW_SNS_SIGNATURE_B64_MAX 1368

/* Name "sns". The message is the body (headers are not signed and not read). In order:
 *   - the body is one JSON object of at most GW_SNS_BODY_MAX bytes without NUL characters
 *     (raw or \u0000, which would make the decoded strings differ from what SNS signed),
 *     else GW_VERIFY_MALFORMED_HEADER with an empty detail header;
 *   - Type is Notification, SubscriptionConfirmation or UnsubscribeConfirmation, and every
 *     field that Type needs is present (Message, MessageId, Timestamp, TopicArn, Type,
 *     SignatureVersion, Signature, SigningCertURL, and for the confirmations Token and
 *     SubscribeURL): absent, null or repeated → GW_VERIFY_MISSING_HEADER, not a string →
 *     GW_VERIFY_MALFORMED_HEADER; the detail header names the field;
 *   - SignatureVersion "1" (SHA-1) or "2" (SHA-256), Signature padded base64, Timestamp
 *     ISO-8601 UTC ("2026-01-05T09:30:01.112Z"), and SigningCertURL accepted by
 *     gw_sns_cert_url_ok: else GW_VERIFY_MALFORMED_HEADER (a certificate URL outside the
 *     pattern is the message's fault, not a problem of our keys);
 *   - Timestamp within in->tolerance_s (0: GW_SNS_DEFAULT_TOLERANCE_S) of in->now, both
 *     ways, else GW_VERIFY_TIMESTAMP_OUTSIDE;
 *   - no topics configured → GW_VERIFY_KEY_UNUSABLE; TopicArn not one of in->topics →
 *     GW_VERIFY_NO_SECRET_MATCHED (header "TopicArn"): the allowed topics play the part of
 *     the endpoint's secrets, and this is decided before any certificate is looked up;
 *   - in->cert_lookup returns the certificate (NULL, or a key that is not RSA of 2048 to
 *     8192 bits → GW_VERIFY_KEY_UNUSABLE; the caller may answer 503 so SNS retries);
 *   - Signature of another length than the key's → GW_VERIFY_MALFORMED_HEADER;
 *   - Signature verifies over the canonical string → GW_VERIFY_OK with detail secret_index
 *     the index of the matching topic, else GW_VERIFY_NO_SECRET_MATCHED.
 * detail->signed_len is the canonical string's length, detail->timestamp the Timestamp in
 * Unix seconds. A Subject that is null counts as absent, as in AWS's validators. */
extern const struct gw_verifier gw_verifier_sns;

/* True when URL may be fetched as a SigningCertURL: "https://" (any case), then an
 * authority host[:port] of letters, digits, '.' and '-' (no user info, at most 255 bytes)
 * matching one of PATTERNS (comma-separated; NULL or empty: the default), then a path of
 * [A-Za-z0-9._~/-] without "." or ".." segments ending in ".pem", with no query or fragment,
 * the whole at most GW_SNS_CERT_URL_MAX bytes. In a pattern '*' stands for 1..63 letters,
 * digits or '-', so it never crosses a '.' or ':'; letters compare without case; an item
 * with more than three '*' matches nothing (bounding the work). Else false
 * with a reason in WHY (which may be NULL). */
bool gw_sns_cert_url_ok(const char *url, const char *patterns, char *why, size_t why_len);

/* True when URL may be fetched as a SubscribeURL (or any other URL SNS hands over to be
 * called back): "https://" (any case), an authority host[:port] as in gw_sns_cert_url_ok
 * matching one of PATTERNS (NULL or empty: the default), then any path and query of
 * printable ASCII without spaces, the whole at most GW_SNS_CERT_URL_MAX bytes. Else false
 * with a reason in WHY (which may be NULL). */
bool gw_sns_subscribe_url_ok(const char *url, const char *patterns, char *why, size_t why_len);

/* Parses BODY as the verifier does and builds the string SNS signs: for each field of its
 * Type, in the fixed order, that is present, "key\nvalue\n". On GW_VERIFY_OK *OUT holds it
 * (malloc, NUL-terminated; the caller frees) and *OUT_LEN its length; otherwise *OUT is NULL
 * and DETAIL (which may be NULL) says why. Only the fields the string needs are required.
 * For tests, fuzzing and `ctgw verify`. */
enum gw_verify_result gw_sns_string_to_sign(const unsigned char *body, size_t body_len, char **out,
                                            size_t *out_len, struct gw_verify_detail *detail);

#endif
