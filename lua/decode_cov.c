/* placeholder: decode and coverage commands, written next */
#include "cli.h"
#include <stdio.h>
int pc_cmd_decode(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 2; }
int pc_cmd_coverage(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 2; }
