/* Table-driven option parsing (after git's parse-options): options are
 * declared once, with their targets and help; the parser fills targets,
 * rejects unknown options, and prints help from the same table, so help
 * never drifts from behaviour.
 *
 *     const char *hyp = NULL; int json = 0;
 *     struct ar_opt opts[] = {
 *         AR_OPT_STR("hypothesis", &hyp, "TEXT", "what the change tests"),
 *         AR_OPT_BOOL("json", &json, "print JSON lines"),
 *         AR_OPT_END,
 *     };
 *     argc = ar_opt_parse(opts, argc, argv, usage);   // argv[0..argc) are positionals
 *
 * A command that takes an id and needs an option declares both, and the
 * parser gives the usual answers (help on a wrong count of positionals,
 * "retract: --reason is required" when the option is missing):
 *
 *         AR_OPT_STR_REQ("reason", &reason, "TEXT", "why (required)"),
 *     ar_opt_parse_n(opts, argc, argv, usage, "retract", 1, 1);
 *
 * Long options take `--name VALUE` or `--name=VALUE`. `--` ends options.
 * `-h`/`--help` prints usage and the option table to stdout and exits 0;
 * errors print one line ("prog: unknown option '--x' (see --help)") and
 * exit 2. */
#ifndef AR_OPT_H
#define AR_OPT_H

enum ar_opt_type { AR_OPT_T_END, AR_OPT_T_BOOL, AR_OPT_T_STR, AR_OPT_T_INT, AR_OPT_T_NUM, AR_OPT_T_LIST };

/* A repeatable string option collects its values here. */
struct ar_strlist {
    const char **v;
    int n;
};

struct ar_opt {
    enum ar_opt_type type;
    const char *name;     /* long name without dashes */
    void *target;
    const char *arg;      /* value placeholder for help */
    const char *help;
    char letter;          /* short form: -x VALUE; 0 for none */
    int required;         /* ar_opt_parse_n fails when it is not given */
};

#define AR_OPT_BOOL(n, t, h) {AR_OPT_T_BOOL, n, t, NULL, h, 0, 0}
#define AR_OPT_STR(n, t, a, h) {AR_OPT_T_STR, n, t, a, h, 0, 0}
#define AR_OPT_INT(n, t, a, h) {AR_OPT_T_INT, n, t, a, h, 0, 0}     /* long */
#define AR_OPT_NUM(n, t, a, h) {AR_OPT_T_NUM, n, t, a, h, 0, 0}     /* double; *t set */
#define AR_OPT_LIST(n, t, a, h) {AR_OPT_T_LIST, n, t, a, h, 0, 0}
/* A string option with a one-letter form too: -o FILE, --output FILE. */
#define AR_OPT_STR_SHORT(c, n, t, a, h) {AR_OPT_T_STR, n, t, a, h, c, 0}
#define AR_OPT_END {AR_OPT_T_END, NULL, NULL, NULL, NULL, 0, 0}
/* Options that ar_opt_parse_n requires. */
#define AR_OPT_STR_REQ(n, t, a, h) {AR_OPT_T_STR, n, t, a, h, 0, 1}
#define AR_OPT_BOOL_REQ(n, t, h) {AR_OPT_T_BOOL, n, t, NULL, h, 0, 1}
/* No upper bound on the positionals of ar_opt_parse_n. */
#define AR_OPT_ANY (-1)

/* Parses argv[1..argc), permuting positionals to the front of argv; returns
 * their count. usage is the first part of the help (a usage line and a
 * sentence); the option table is appended. */
int ar_opt_parse(const struct ar_opt *opts, int argc, char **argv, const char *usage);

/* ar_opt_parse for a command (what: its name in messages, NULL for none)
 * that takes from min to max positionals (max AR_OPT_ANY: no bound), and
 * whose required options (AR_OPT_*_REQ) must be given. Returns the count of
 * positionals. Input errors (exit 2): a positional where the command takes
 * none is "what: unexpected argument 'x' (see --help)"; any other count out
 * of bounds, or a missing required option on an empty command line,
 * prints the help to stderr; a missing required option otherwise is
 * "what: --name is required". */
int ar_opt_parse_n(const struct ar_opt *opts, int argc, char **argv, const char *usage,
                   const char *what, int min, int max);

/* ar_opt_parse_n(opts, argc, argv, usage, what, 0, 0). */
void ar_opt_parse_none(const struct ar_opt *opts, int argc, char **argv, const char *usage, const char *what);

/* Whether a NUM or INT option was given (they have no "unset" value). */
int ar_opt_given(const struct ar_opt *opts, const void *target);

void ar_opt_help(const struct ar_opt *opts, const char *usage, int to_stderr);

void ar_strlist_free(struct ar_strlist *l);

#endif
