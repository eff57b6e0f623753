/* `ar-card validate`: checking fact files against the schemas. A file is a
 * note when its schema says so (ar.note/1), else a card; a stored fact (one
 * with an id) is checked as stored, and under cards/ or notes/ its file
 * name must be its id. */
#ifndef AR_VALIDATE_H
#define AR_VALIDATE_H

#include <stdio.h>

#include "facts/kb.h"

/* Checks one file; a problem is AR_EINPUT "PATH: why". */
int ar_validate_file(const char *path);

/* Checks the n files of paths, or with n == 0 every card and note of kb
 * (kb may be NULL only when n > 0). Prints one line per problem to report;
 * returns the count of invalid files and sets *total to the count checked. */
int ar_validate_files(const struct ar_kb *kb, char **paths, int n, FILE *report, int *total);

#endif
