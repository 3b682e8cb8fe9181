/* Text: the /proc toolkit (text/proc.c) and address text (text/addr.c). */
#ifndef LNETSTAT_TEXT_H
#define LNETSTAT_TEXT_H

#include "lnetstat.h"

#pragma GCC visibility push(hidden)

/* text/proc.c: reading a whole /proc file, walking its non-blank lines and
 * reading strict hex and decimal tokens. */

/* A whitespace-separated token reader over one line (not NUL-terminated). */
struct cursor {
	const char *p, *end;
};

/* Blanks are spaces, tabs and carriage returns. */
int is_space(char ch);
int next_token(struct cursor *c, const char **tok, size_t *len);
int hex_digit(char ch);
int parse_hex(const char *s, size_t len, uint64_t *out);
int parse_dec(const char *s, size_t len, uint64_t *out, int *neg);
int token_hex(struct cursor *c, uint64_t max, uint64_t *out);
int token_dec(struct cursor *c, uint64_t max, uint64_t *out);
int token_int(struct cursor *c, uint32_t *out);
int is_blank(const char *p, const char *end);
int proc_line(const char **p, const char *end, struct cursor *c);
int next_line(const char **p, const char *end, struct cursor *c);
long user_hz(void);
int proc_read_all(struct session *s, int fd, size_t *len);

/* text/addr.c: inet_ntop's text for an address; out holds at least
 * INET6_ADDRSTRLEN bytes. Returns the length written. */
size_t addr_ntop(const struct addr *a, char *out);

#pragma GCC visibility pop

#endif
