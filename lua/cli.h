/* lua/cli.h: the ppconform commands (run/list, coverage, decode), callable from main.c
 * and from tests. Each returns the process exit code. */
#ifndef PC_CLI_H
#define PC_CLI_H

int pc_cli_main(int argc, char **argv);
int pc_cmd_decode(int argc, char **argv);
int pc_cmd_coverage(int argc, char **argv);
int pc_cmd_mutate(int argc, char **argv);

#endif
