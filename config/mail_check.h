/* mail_check.h — what the key tables cannot say about the `mail:` section: the shape of
 * domain and loop_marker, and the per-file attachment limit within the per-message one. */
#ifndef CTGW_CONFIG_MAIL_CHECK_H
#define CTGW_CONFIG_MAIL_CHECK_H

#include "config/config.h"
#include "config/walk.h"
#include "config/yaml_tree.h"

/* Reports each problem of CFG->mail as FILE:LINE at the value written; ROOT is the document.
 * Nothing to check when the section is absent. */
void gw_cfg_check_mail(struct gw_cfg_walk *w, const struct gw_yaml_node *root,
                       const struct gw_config *cfg);

#endif
