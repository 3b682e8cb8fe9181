/* The netlink attribute readers every decoder uses: an attribute table
 * filled by type, and scalar and string readers that check the
 * attribute's length before they read its payload (doc/kernel-notes.md
 * §2). */
#include "nl/nl.h"

/* Fills tb[type] with each attribute of the len bytes at p whose type is
 * below size; stops at the first attribute that does not fit (as
 * mnl_attr_parse does, but without a callback per attribute: this runs
 * for every socket and route of a dump). The end is the message's own
 * length, never rounded up past it. */
static int attrs_walk(const unsigned char *p, size_t len, const struct nlattr **tb, int size)
{
	while (len >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)(const void *)p;
		size_t alen = a->nla_len, step;
		int type = a->nla_type & NLA_TYPE_MASK;

		if (alen < sizeof(struct nlattr) || alen > len)
			break;
		if (type < size)
			tb[type] = a;
		step = MNL_ALIGN(alen);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return MNL_CB_OK;
}

int nl_attrs_parse(const struct nlmsghdr *nlh, unsigned int offset,
		   const struct nlattr **tb, int size)
{
	size_t start = MNL_NLMSG_HDRLEN + MNL_ALIGN(offset);

	if (nlh->nlmsg_len < start)
		return MNL_CB_OK;   /* no attributes */
	return attrs_walk((const unsigned char *)nlh + start, nlh->nlmsg_len - start, tb, size);
}

int nl_attrs_parse_nested(const struct nlattr *nest, const struct nlattr **tb, int size)
{
	if (nest->nla_len < MNL_ATTR_HDRLEN)
		return MNL_CB_OK;
	return attrs_walk((const unsigned char *)nest + MNL_ATTR_HDRLEN,
			  nest->nla_len - MNL_ATTR_HDRLEN, tb, size);
}

/* A NUL-terminated string attribute, or NULL. */
const char *nl_attr_str(const struct nlattr *a)
{
	const char *s;
	uint16_t len;

	if (a == NULL || (len = mnl_attr_get_payload_len(a)) == 0)
		return NULL;
	s = (const char *)mnl_attr_get_payload(a);
	return s[len - 1] == '\0' ? s : NULL;
}

const void *nl_msg_hdr(const struct nlmsghdr *nlh, uint16_t type, size_t hdr_size)
{
	if (nlh->nlmsg_type != type || nlh->nlmsg_len < NLMSG_LENGTH(hdr_size))
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

const void *nl_attr_min(const struct nlattr *a, size_t min)
{
	if (a == NULL || mnl_attr_get_payload_len(a) < min)
		return NULL;
	return mnl_attr_get_payload(a);
}

int nl_attr_copy(const struct nlattr *a, void *out, size_t size)
{
	const void *p = nl_attr_min(a, size);

	if (p == NULL)
		return 0;
	memcpy(out, p, size);
	return 1;
}

const char *nl_nest_next_str(const struct nlattr *nest, uint16_t type,
			     const struct nlattr **pos)
{
	const char *end = (const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest);
	const struct nlattr *a;
	const char *s;

	a = *pos == NULL ? (const struct nlattr *)mnl_attr_get_payload(nest) : mnl_attr_next(*pos);
	while (mnl_attr_ok(a, (int)(end - (const char *)a))) {
		*pos = a;
		if (mnl_attr_get_type(a) == type && (s = nl_attr_str(a)) != NULL)
			return s;
		a = mnl_attr_next(a);
	}
	return NULL;
}

size_t nl_msgs_walk(const void *buf, size_t len, nl_msg_cb cb, void *data)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	size_t left = len;

	for (; nl_msg_fits(nlh, left); nlh = nl_msg_next(nlh, &left))
		(void)cb(nlh, data);
	return left;
}
