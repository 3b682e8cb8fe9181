/* Record fields straight from netlink attributes: each sets t[k] on the
 * table at the top of the stack when the attribute is there and well
 * formed, and leaves the table alone otherwise. */
#include "record/attr.h"
#include "record/push.h"
#include "nl/nl.h"

void attr_set_u32(lua_State *L, const char *k, const struct nlattr *a)
{
	uint32_t v;

	if (nl_attr_u32(a, &v))
		set_int(L, k, v);
}

void attr_set_str(lua_State *L, const char *k, const struct nlattr *a)
{
	const char *v = nl_attr_str(a);

	if (v != NULL)
		set_str(L, k, v);
}

/* "aa:bb:cc:..." for a hardware address of any length; nothing for an
 * empty one. */
void attr_push_hw(lua_State *L, const unsigned char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	luaL_Buffer b;
	size_t i;

	luaL_buffinit(L, &b);
	for (i = 0; i < len; i++) {
		if (i > 0)
			luaL_addchar(&b, ':');
		luaL_addchar(&b, hex[p[i] >> 4]);
		luaL_addchar(&b, hex[p[i] & 15]);
	}
	luaL_pushresult(&b);
}

void attr_set_hw(lua_State *L, const char *k, const struct nlattr *a)
{
	if (a == NULL || mnl_attr_get_payload_len(a) == 0)
		return;
	attr_push_hw(L, (const unsigned char *)mnl_attr_get_payload(a),
		   mnl_attr_get_payload_len(a));
	lua_setfield(L, -2, k);
}
