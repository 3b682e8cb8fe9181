/* The /proc text toolkit every /proc parser shares: reading a whole file
 * into the session's buffer, walking its lines, and reading
 * whitespace-separated hex and decimal tokens strictly (no sign where none
 * is allowed, no "0x", no overflow). */
#include "text/text.h"

#include <stdlib.h>
#include <unistd.h>

#define PROCNET_READ_MIN (64 * 1024)

int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

int next_token(struct cursor *c, const char **tok, size_t *len)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
	if (c->p == c->end)
		return 0;
	*tok = c->p;
	while (c->p < c->end && !is_space(*c->p))
		c->p++;
	*len = (size_t)(c->p - *tok);
	return 1;
}

int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly len (1..16) hex digits: no sign, no "0x", no spaces, unlike
 * strtoul. Returns 0 or -1. */
int parse_hex(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (len == 0 || len > 16)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = hex_digit(s[i])) < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* Decimal digits, optionally preceded by '-' when neg is not NULL. */
int parse_dec(const char *s, size_t len, uint64_t *out, int *neg)
{
	uint64_t v = 0;
	size_t i = 0;

	if (neg != NULL) {
		*neg = len > 0 && s[0] == '-';
		i = (size_t)*neg;
	}
	if (i == len || len - i > 20)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int token_hex(struct cursor *c, uint64_t max, uint64_t *out)
{
	const char *t;
	size_t n;

	if (!next_token(c, &t, &n) || parse_hex(t, n, out) != 0 || *out > max)
		return -1;
	return 0;
}

int token_dec(struct cursor *c, uint64_t max, uint64_t *out)
{
	const char *t;
	size_t n;

	if (!next_token(c, &t, &n) || parse_dec(t, n, out, NULL) != 0 || *out > max)
		return -1;
	return 0;
}

/* A signed int column (netlink Rmem/Wmem): negative values read as 0. */
int token_int(struct cursor *c, uint32_t *out)
{
	const char *t;
	size_t n;
	uint64_t v;
	int neg;

	if (!next_token(c, &t, &n) || parse_dec(t, n, &v, &neg) != 0 || v > INT32_MAX + 1ULL)
		return -1;
	*out = neg ? 0 : (uint32_t)v;
	return 0;
}

int is_blank(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!is_space(*p))
			return 0;
	return 1;
}

/* Steps the cursor to the next line of [*p, end), blank or not, and moves
 * *p past it; 0 when no line is left. The one line loop of the /proc
 * parsers: a last line without a newline counts, a final newline does not
 * start an empty line. */
int proc_line(const char **p, const char *end, struct cursor *c)
{
	const char *eol;

	if (*p >= end)
		return 0;
	eol = (const char *)memchr(*p, '\n', (size_t)(end - *p));
	if (eol == NULL)
		eol = end;
	c->p = *p;
	c->end = eol;
	*p = eol < end ? eol + 1 : end;
	return 1;
}

/* proc_line, skipping blank lines. */
int next_line(const char **p, const char *end, struct cursor *c)
{
	while (proc_line(p, end, c))
		if (!is_blank(c->p, c->end))
			return 1;
	return 0;
}

long user_hz(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? hz : 100;
}

/* Reads the whole file into the session's scratch buffer (grown as
 * needed, freed by session_close) and NUL-terminates it. Returns 0 or a
 * negative errno. */
int proc_read_all(struct session *s, int fd, size_t *len)
{
	size_t used = 0, want;
	ssize_t got;
	char *p;

	for (;;) {
		if (s->text_size < 2 || s->text_size - used < 2) {
			want = s->text_size < PROCNET_READ_MIN ? PROCNET_READ_MIN : s->text_size * 2;
			if (want < s->text_size)
				return -ENOMEM;
			if ((p = (char *)realloc(s->text, want)) == NULL)
				return -ENOMEM;
			s->text = p;
			s->text_size = want;
		}
		got = pread(fd, s->text + used, s->text_size - used - 1, (off_t)used);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		used += (size_t)got;
	}
	s->text[used] = '\0';
	*len = used;
	return 0;
}
