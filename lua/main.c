/* ppconform: the PROXY-protocol conformance runner. See `ppconform --help`. */
#include "cli.h"

int main(int argc, char **argv)
{
    return pc_cli_main(argc, argv);
}
