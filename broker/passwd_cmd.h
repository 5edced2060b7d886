/* broker/passwd_cmd: `ppbroker passwd FILE USER` writes or replaces USER's entry in a
 * password file (format in auth.h). The password comes from stdin (one line), or is
 * prompted twice without echo when stdin is a terminal. The file is rewritten atomically
 * with mode 0600. */
#ifndef PPB_PASSWD_CMD_H
#define PPB_PASSWD_CMD_H

/* argv[0] = "passwd". Returns the exit status (0 ok, 1 I/O failure, 2 usage). */
int ppb_passwd_command(int argc, char **argv);

#endif
