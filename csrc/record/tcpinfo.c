/* The `info` table of a socket record: tcp_info, socket memory, congestion
 * control (what ss -i -m -e shows). Every attribute is read by its real
 * length: tcp_info is 144, 232 or 280 bytes depending on the kernel. */
#include "record/tcpinfo.h"
#include "record/push.h"

#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

/* Sets a tcp_info field only if the kernel actually sent it. */
#define TI_HAS(len, field) \
	(offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field) <= (len))
#define TI_INT(L, ti, len, key, field) \
	do { if (TI_HAS(len, field)) set_u64(L, key, (ti)->field); } while (0)
#define TI_MS(L, ti, len, key, field) \
	do { if (TI_HAS(len, field)) set_num(L, key, (double)(ti)->field / 1000.0); } while (0)

static void push_tcp_info(lua_State *L, const struct nlattr *attr)
{
	struct tcp_info ti;
	size_t len = mnl_attr_get_payload_len(attr);

	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, mnl_attr_get_payload(attr), len < sizeof(ti) ? len : sizeof(ti));
	set_int(L, "tcp_info_len", (long long)len);
	if (len > sizeof(ti))
		len = sizeof(ti);
	TI_INT(L, &ti, len, "ca_state", tcpi_ca_state);
	TI_INT(L, &ti, len, "probes", tcpi_probes);
	TI_INT(L, &ti, len, "backoff", tcpi_backoff);
	TI_INT(L, &ti, len, "options", tcpi_options);
	if (TI_HAS(len, tcpi_rto)) {
		set_int(L, "snd_wscale", ti.tcpi_snd_wscale);
		set_int(L, "rcv_wscale", ti.tcpi_rcv_wscale);
	}
	TI_MS(L, &ti, len, "rto_ms", tcpi_rto);
	TI_MS(L, &ti, len, "ato_ms", tcpi_ato);
	TI_INT(L, &ti, len, "mss", tcpi_snd_mss);
	TI_INT(L, &ti, len, "rcv_mss", tcpi_rcv_mss);
	TI_INT(L, &ti, len, "unacked", tcpi_unacked);
	TI_INT(L, &ti, len, "sacked", tcpi_sacked);
	TI_INT(L, &ti, len, "lost", tcpi_lost);
	TI_INT(L, &ti, len, "retrans", tcpi_retrans);
	TI_INT(L, &ti, len, "last_data_sent_ms", tcpi_last_data_sent);
	TI_INT(L, &ti, len, "last_data_recv_ms", tcpi_last_data_recv);
	TI_INT(L, &ti, len, "last_ack_recv_ms", tcpi_last_ack_recv);
	TI_INT(L, &ti, len, "pmtu", tcpi_pmtu);
	TI_INT(L, &ti, len, "rcv_ssthresh", tcpi_rcv_ssthresh);
	TI_MS(L, &ti, len, "rtt_ms", tcpi_rtt);
	TI_MS(L, &ti, len, "rttvar_ms", tcpi_rttvar);
	/* TCP_INFINITE_SSTHRESH: still in initial slow start, no threshold. */
	if (TI_HAS(len, tcpi_snd_ssthresh) && ti.tcpi_snd_ssthresh < 0xffff)
		set_int(L, "ssthresh", ti.tcpi_snd_ssthresh);
	TI_INT(L, &ti, len, "cwnd", tcpi_snd_cwnd);
	TI_INT(L, &ti, len, "advmss", tcpi_advmss);
	TI_INT(L, &ti, len, "reordering", tcpi_reordering);
	TI_MS(L, &ti, len, "rcv_rtt_ms", tcpi_rcv_rtt);
	TI_INT(L, &ti, len, "rcv_space", tcpi_rcv_space);
	TI_INT(L, &ti, len, "total_retrans", tcpi_total_retrans);
	/* ~0 means "no limit". */
	if (TI_HAS(len, tcpi_pacing_rate) && ti.tcpi_pacing_rate != ~0ULL)
		set_u64(L, "pacing_rate", ti.tcpi_pacing_rate);
	if (TI_HAS(len, tcpi_max_pacing_rate) && ti.tcpi_max_pacing_rate != ~0ULL)
		set_u64(L, "max_pacing_rate", ti.tcpi_max_pacing_rate);
	TI_INT(L, &ti, len, "bytes_acked", tcpi_bytes_acked);
	TI_INT(L, &ti, len, "bytes_received", tcpi_bytes_received);
	TI_INT(L, &ti, len, "segs_out", tcpi_segs_out);
	TI_INT(L, &ti, len, "segs_in", tcpi_segs_in);
	TI_INT(L, &ti, len, "notsent_bytes", tcpi_notsent_bytes);
	TI_MS(L, &ti, len, "min_rtt_ms", tcpi_min_rtt);
	TI_INT(L, &ti, len, "data_segs_in", tcpi_data_segs_in);
	TI_INT(L, &ti, len, "data_segs_out", tcpi_data_segs_out);
	TI_INT(L, &ti, len, "delivery_rate", tcpi_delivery_rate);
	TI_INT(L, &ti, len, "busy_time_us", tcpi_busy_time);
	TI_INT(L, &ti, len, "rwnd_limited_us", tcpi_rwnd_limited);
	TI_INT(L, &ti, len, "sndbuf_limited_us", tcpi_sndbuf_limited);
	TI_INT(L, &ti, len, "delivered", tcpi_delivered);
	TI_INT(L, &ti, len, "delivered_ce", tcpi_delivered_ce);
	TI_INT(L, &ti, len, "bytes_sent", tcpi_bytes_sent);
	TI_INT(L, &ti, len, "bytes_retrans", tcpi_bytes_retrans);
	TI_INT(L, &ti, len, "dsack_dups", tcpi_dsack_dups);
	TI_INT(L, &ti, len, "reord_seen", tcpi_reord_seen);
	TI_INT(L, &ti, len, "rcv_ooopack", tcpi_rcv_ooopack);
	TI_INT(L, &ti, len, "snd_wnd", tcpi_snd_wnd);
}

/* SK_MEMINFO_* is an array of u32 whose length grows across kernels. */
static void push_skmeminfo(lua_State *L, const struct nlattr *attr)
{
	static const char *const names[] = {
		"rmem", "rcvbuf", "wmem", "sndbuf", "fwd_alloc",
		"wmem_queued", "optmem", "backlog", "drops",
	};
	size_t n = mnl_attr_get_payload_len(attr) / sizeof(uint32_t), i;
	const char *p = (const char *)mnl_attr_get_payload(attr);
	uint32_t v;

	for (i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++) {
		memcpy(&v, p + i * sizeof(v), sizeof(v));
		set_int(L, names[i], v);
	}
}

/* Fills the info table (on top of the stack) from a message's attributes. */
void push_inet_info(lua_State *L, const struct nlattr *const *tb)
{
	const struct nlattr *a;

	if ((a = tb[INET_DIAG_INFO]) != NULL && mnl_attr_get_payload_len(a) > 0)
		push_tcp_info(L, a);
	if ((a = tb[INET_DIAG_CONG]) != NULL && mnl_attr_get_payload_len(a) > 0) {
		const char *name = (const char *)mnl_attr_get_payload(a);

		lua_pushlstring(L, name, strnlen(name, mnl_attr_get_payload_len(a)));
		lua_setfield(L, -2, "congestion");
	}
	if ((a = tb[INET_DIAG_SKMEMINFO]) != NULL)
		push_skmeminfo(L, a);
	else if ((a = tb[INET_DIAG_MEMINFO]) != NULL &&
		 mnl_attr_get_payload_len(a) >= sizeof(struct inet_diag_meminfo)) {
		struct inet_diag_meminfo m;

		memcpy(&m, mnl_attr_get_payload(a), sizeof(m));
		set_int(L, "rmem", m.idiag_rmem);
		set_int(L, "wmem", m.idiag_wmem);
	}
	if ((a = tb[INET_DIAG_SHUTDOWN]) != NULL && mnl_attr_get_payload_len(a) >= 1)
		set_int(L, "shutdown", *(const uint8_t *)mnl_attr_get_payload(a));
	if ((a = tb[INET_DIAG_TOS]) != NULL && mnl_attr_get_payload_len(a) >= 1)
		set_int(L, "tos", *(const uint8_t *)mnl_attr_get_payload(a));
	if ((a = tb[INET_DIAG_TCLASS]) != NULL && mnl_attr_get_payload_len(a) >= 1)
		set_int(L, "tclass", *(const uint8_t *)mnl_attr_get_payload(a));
	if ((a = tb[INET_DIAG_MARK]) != NULL && mnl_attr_get_payload_len(a) >= 4)
		set_int(L, "mark", mnl_attr_get_u32(a));
	if ((a = tb[INET_DIAG_CGROUP_ID]) != NULL && mnl_attr_get_payload_len(a) >= 8) {
		uint64_t id;

		memcpy(&id, mnl_attr_get_payload(a), sizeof(id));
		set_u64(L, "cgroup_id", id);
	}
}
