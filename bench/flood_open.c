/* flood_open.c — bench/flood's flood that does not wait for its answers (BENCH_FLOOD_OPEN=1):
 * each of C slots connects to 127.0.0.1:PORT, sends one forged Slack /job command (current
 * timestamp, `v0=` + 64 hex digits of garbage, X-Forwarded-For SOURCE) and closes at once,
 * unread, then connects again, for D seconds. What an attacker does to defeat a server that
 * answers refusals late (limits.refusal_delay): it never waits. Writes key=value lines to
 * STATS_FILE: sent, connect_errors, duration_s, req_per_s.
 *
 *   flood_open -p PORT -c SLOTS -d SECONDS -x SOURCE -o STATS_FILE
 *
 * Loopback only; bounded by -d (at most 3600 s) and by SLOTS (at most 4096). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS_MAX 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fresh forged request into BUF; its length. */
static int forged(char *buf, size_t cap, unsigned long n, const char *source)
{
    char sig[65];
    for (int i = 0; i < 64; i++)
        sig[i] = "0123456789abcdef"[(unsigned)rand() % 16];
    sig[64] = '\0';
    char body[512];
    int blen = snprintf(body, sizeof(body),
                        "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0DEMO&team_domain=demo"
                        "&channel_id=C0BENCH01&channel_name=support&user_id=U0DEMOADM"
                        "&user_name=admin&command=%%2Fjob&text=show+CT-%06lu"
                        "&api_app_id=A0BENCHAPP&trigger_id=13345224609.738474920.%lu",
                        n % 100 + 1, n);
    return snprintf(buf, cap,
                    "POST /hooks/slack HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "content-type: application/x-www-form-urlencoded\r\n"
                    "x-forwarded-for: %s\r\nx-slack-request-timestamp: %lld\r\n"
                    "x-slack-signature: v0=%s\r\ncontent-length: %d\r\n\r\n%s",
                    source, (long long)time(NULL), sig, blen, body);
}

static int open_slot(const struct sockaddr_in *to)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    int port = 0, slots = 64, seconds = 10, opt;
    const char *source = "203.0.113.66", *stats = NULL;
    while ((opt = getopt(argc, argv, "p:c:d:x:o:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            slots = atoi(optarg);
            break;
        case 'd':
            seconds = atoi(optarg);
            break;
        case 'x':
            source = optarg;
            break;
        case 'o':
            stats = optarg;
            break;
        default:
            return 2;
        }
    }
    if (port <= 0 || port > 65535 || slots < 1 || slots > SLOTS_MAX || seconds < 1 ||
        seconds > 3600 || stats == NULL || strlen(source) > 64) {
        fprintf(stderr, "usage: flood_open -p PORT -c SLOTS -d SECONDS -x SOURCE -o STATS\n");
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static struct pollfd p[SLOTS_MAX];
    for (int i = 0; i < slots; i++) {
        p[i].fd = open_slot(&to);
        p[i].events = POLLOUT;
    }
    unsigned long sent = 0, errors = 0;
    double start = now_s(), end = start + seconds;
    char req[1024];
    while (now_s() < end) {
        if (poll(p, (nfds_t)slots, 100) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < slots; i++) {
            if (p[i].fd < 0) {
                p[i].fd = open_slot(&to);
                errors++;
                continue;
            }
            if (p[i].revents == 0)
                continue;
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0 && (p[i].revents & POLLOUT)) {
                int n = forged(req, sizeof(req), sent, source);
                if (send(p[i].fd, req, (size_t)n, MSG_NOSIGNAL) == n)
                    sent++;
                else
                    errors++;
            } else {
                errors++;
            }
            close(p[i].fd); /* the answer is never read */
            p[i].fd = open_slot(&to);
        }
    }
    double took = now_s() - start;
    for (int i = 0; i < slots; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    FILE *f = fopen(stats, "w");
    if (f == NULL)
        return 1;
    fprintf(f, "sent=%lu\nconnect_errors=%lu\nduration_s=%.2f\nreq_per_s=%.0f\n", sent, errors,
            took, (double)sent / took);
    fclose(f);
    return 0;
}
