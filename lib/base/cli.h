/* Shared front-end pieces for the tools: subcommand dispatch (git-style
 * cmd_<name> table) and small argument helpers. */
#ifndef AR_CLI_H
#define AR_CLI_H

struct ar_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);   /* argv[0] is the subcommand */
    const char *summary;
};

/* Runs the subcommand named by argv[1] from the NULL-name-terminated table;
 * with no argument or an unknown one prints usage (to stderr) and exits 2;
 * `--help`/`-h`/`help` print the overview to stdout. */
int ar_cli_dispatch(const struct ar_cmd *cmds, int argc, char **argv, const char *overview);

/* A subcommand described by one struct: its name and summary (the
 * overview), its usage and option table (its --help), the count of
 * positionals it takes (min to max, AR_OPT_ANY for no bound) and run,
 * which gets the positionals once the options are parsed
 * (ar_opt_parse_n, messages naming the subcommand). A subcommand that
 * parses its own command line sets fn instead (called as in ar_cmd). */
struct ar_opt;
struct ar_subcmd {
    const char *name;
    const char *summary;
    const char *usage;
    const struct ar_opt *opts;
    int min, max;
    int (*run)(int n, char **args);
    int (*fn)(int argc, char **argv);
};

/* ar_cli_dispatch over a NULL-terminated list of subcommands. */
int ar_cli_run(const struct ar_subcmd *const *cmds, int argc, char **argv, const char *overview);

/* Splits "a,b,c" into a jv array of strings (empty items dropped). */
#include <jv.h>
jv ar_split_commas(const char *s);

/* Parses a number given to an option; exits 2 naming the option. */
double ar_parse_num(const char *opt, const char *s);

#endif
