/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the entry point of scimd: find the command in the table
 * (src/cli/cli.c) and run it.
 *
 * The exit code is 0 on success, 2 for usage errors and 1 for everything
 * else.  This is the only file that may end the process.
 */
#include <stdio.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help_print(stderr);
        return CLI_EXIT_USAGE;
    }
    int consumed = 0;
    const struct cli_command *command = cli_command_find(argc, argv, &consumed);
    if (command == NULL)
        return cli_usage_error("unknown command '%s'",
                               argc > 2 && argv[2][0] != '-' ? argv[2] : argv[1]);
    struct cli cli;
    int code = cli_prepare(&cli, command, argc - consumed, argv + consumed);
    if (code == CLI_EXIT_OK)
        code = command->run(&cli);
    cli_release(&cli);
    return code;
}
