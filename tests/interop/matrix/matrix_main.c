/* ppconform-matrix: `ppconform matrix` as a program of its own, so the interop test does not
 * depend on the runner's command dispatch. It starts the ppconform next to it. */
int pc_matrix_main(int argc, char **argv);

int main(int argc, char **argv)
{
    return pc_matrix_main(argc - 1, argv + 1);
}
