-- netstat -s from the counters of ns.stats(): counters in, text out.
-- @module lnetstat.netstat.text.statistics

local type, ipairs, pairs, tonumber = type, ipairs, pairs, tonumber
local sformat, rep, concat, sort = string.format, string.rep, table.concat, table.sort
local floor = math.floor
local util_mod = require "lnetstat.format.util"
local unsigned_text, need_table, need_opts = util_mod.unsigned_text, util_mod.need_table, util_mod.need_opts

local M = {}

-- Statistics (-s) -------------------------------------------------------------------

-- netstat's statistics.c, reproduced: its tables in their source order
-- (some are not sorted the way strcmp sorts, so its bsearch misses a few
-- names, which then print as "Name: value" like unknown ones: "Forwarding:
-- 2" and "TCPTimeouts: 5" are real netstat output), the print state whose
-- indent carries over from one line to the next, and the histogram titles.
local NUMBER, OPT_NUMBER, FORWARD, ICMP_IN, ICMP_OUT, RTO_ALG = 0, 1, 2, 3, 4, 5
local INDENT = { [NUMBER] = 4, [OPT_NUMBER] = 4, [FORWARD] = 4, [ICMP_IN] = 8, [ICMP_OUT] = 8 }
local HISTOGRAM_TITLE = { [ICMP_IN] = "ICMP input histogram:", [ICMP_OUT] = "ICMP output histogram:" }

-- { name, text ("%s" for the value; "" = never printed), type, static?, titled? }
local function entries(spec)
  local t = {}
  for i = 1, #spec, 3 do
    local kind = spec[i + 2]
    t[#t + 1] = {
      name = spec[i], text = spec[i + 1],
      type = kind == "N" and NUMBER or kind == "O" and OPT_NUMBER or kind == "F" and FORWARD
        or (kind == "II" and ICMP_IN) or (kind == "IO" and ICMP_OUT) or RTO_ALG,
      static = kind == "F" or kind == "R" or spec[i] == "DefaultTTL",
      titled = kind == "II" or kind == "IO",
    }
  end
  return t
end

local IP_TAB = entries {
  "DefaultTTL", "Default TTL is %s", "N", "Forwarding", "Forwarding is %s", "F",
  "ForwDatagrams", "%s forwarded", "N", "FragCreates", "%s fragments created", "O",
  "FragFails", "%s outgoing packets failed fragmentation", "O",
  "FragOKs", "%s outgoing packets fragmented ok", "O",
  "InAddrErrors", "%s with invalid addresses", "O", "InDelivers", "%s incoming packets delivered", "N",
  "InDiscards", "%s incoming packets discarded", "N", "InHdrErrors", "%s with invalid headers", "O",
  "InReceives", "%s total packets received", "N", "InUnknownProtos", "%s with unknown protocol", "O",
  "OutDiscards", "%s outgoing packets dropped", "O",
  "OutNoRoutes", "%s dropped because of missing route", "O", "OutRequests", "%s requests sent out", "N",
  "ReasmFails", "%s packet reassemblies failed", "O", "ReasmOKs", "%s packets reassembled ok", "O",
  "ReasmReqds", "%s reassemblies required", "O",
  "ReasmTimeout", "%s fragments dropped after timeout", "O",
}

local IP6_TAB = entries {
  "Ip6FragCreates", "%s fragments created", "O",
  "Ip6FragFails", "%s outgoing packets failed fragmentation", "O",
  "Ip6FragOKs", "%s outgoing packets fragmented ok", "O", "Ip6InAddrErrors", "%s with invalid addresses", "O",
  "Ip6InDelivers", "%s incoming packets delivered", "N",
  "Ip6InDiscards", "%s incoming packets discarded", "N",
  "Ip6InHdrErrors", "%s with invalid headers", "O",
  "Ip6InMcastPkts", "%s incoming multicast packets", "O",
  "Ip6InNoRoutes", "%s incoming packets with no route", "O",
  "Ip6InReceives", "%s total packets received", "N",
  "Ip6InTooBigErrors", "%s with packets too big", "O",
  "Ip6InTruncatedPkts", "%s with truncated packets", "O",
  "Ip6InUnknownProtos", "%s with unknown protocol", "O",
  "Ip6OutDiscards", "%s outgoing packets dropped", "O", "Ip6OutForwDatagrams", "%s forwarded", "N",
  "Ip6OutMcastPkts", "%s outgoing multicast packets", "O",
  "Ip6OutNoRoutes", "%s dropped because of missing route", "O",
  "Ip6OutRequests", "%s requests sent out", "N",
  "Ip6ReasmFails", "%s packet reassemblies failed", "O",
  "Ip6ReasmOKs", "%s packets reassembled ok", "O", "Ip6ReasmReqds", "%s reassemblies required", "O",
  "Ip6ReasmTimeout", "%s fragments dropped after timeout", "O",
}

local ICMP_TAB = entries {
  "InAddrMaskReps", "address mask replies: %s", "II", "InAddrMasks", "address mask request: %s", "II",
  "InDestUnreachs", "destination unreachable: %s", "II", "InEchoReps", "echo replies: %s", "II",
  "InEchos", "echo requests: %s", "II", "InErrors", "%s input ICMP message failed", "N",
  "InMsgs", "%s ICMP messages received", "N", "InParmProbs", "wrong parameters: %s", "II",
  "InRedirects", "redirects: %s", "II", "InSrcQuenchs", "source quenches: %s", "II",
  "InTimeExcds", "timeout in transit: %s", "II", "InTimestampReps", "timestamp reply: %s", "II",
  "InTimestamps", "timestamp request: %s", "II",
  "OutAddrMaskReps", "address mask replies: %s", "IO",
  "OutAddrMasks", "address mask requests: %s", "IO",
  "OutDestUnreachs", "destination unreachable: %s", "IO", "OutEchoReps", "echo replies: %s", "IO",
  "OutEchos", "echo requests: %s", "IO", "OutErrors", "%s ICMP messages failed", "N",
  "OutMsgs", "%s ICMP messages sent", "N", "OutParmProbs", "wrong parameters: %s", "IO",
  "OutRedirects", "redirect: %s", "IO", "OutSrcQuenchs", "source quench: %s", "IO",
  "OutTimeExcds", "time exceeded: %s", "IO", "OutTimestampReps", "timestamp replies: %s", "IO",
  "OutTimestamps", "timestamp requests: %s", "IO",
}

local ICMP6_TAB = entries {
  "Icmp6InDestUnreachs", "destination unreachable: %s", "II",
  "Icmp6InEchoReplies", "echo replies: %s", "II", "Icmp6InEchos", "echo requests: %s", "II",
  "Icmp6InErrors", "%s input ICMP message failed", "N",
  "Icmp6InGroupMembQueries", "group member queries: %s", "II",
  "Icmp6InGroupMembReductions", "group member reductions: %s", "II",
  "Icmp6InGroupMembResponses", "group member responses: %s", "II",
  "Icmp6InMsgs", "%s ICMP messages received", "N",
  "Icmp6InNeighborAdvertisements", "neighbour advertisement: %s", "II",
  "Icmp6InNeighborSolicits", "neighbour solicits: %s", "II",
  "Icmp6InParmProblems", "parameter problem: %s", "II",
  "Icmp6InPktTooBigs", "packets too big: %s", "II", "Icmp6InRedirects", "redirects: %s", "II",
  "Icmp6InRouterAdvertisements", "router advertisement: %s", "II",
  "Icmp6InRouterSolicits", "router solicits: %s", "II",
  "Icmp6InTimeExcds", "received ICMPv6 time exceeded: %s", "II",
  "Icmp6OutDestUnreachs", "destination unreachable: %s", "IO",
  "Icmp6OutEchoReplies", "echo replies: %s", "IO", "Icmp6OutEchos", "echo requests: %s", "IO",
  "Icmp6OutGroupMembQueries", "group member queries: %s", "IO",
  "Icmp6OutGroupMembReductions", "group member reductions: %s", "IO",
  "Icmp6OutGroupMembResponses", "group member responses: %s", "IO",
  "Icmp6OutMsgs", "%s ICMP messages sent", "N",
  "Icmp6OutNeighborAdvertisements", "neighbor advertisements: %s", "IO",
  "Icmp6OutNeighborSolicits", "neighbor solicits: %s", "IO",
  "Icmp6OutParmProblems", "parameter problem: %s", "IO",
  "Icmp6OutPktTooBigs", "packets too big: %s", "IO", "Icmp6OutRedirects", "redirects: %s", "IO",
  -- sic: the trailing blank is in net-tools' table
  "Icmp6OutRouterAdvertisements ", "router advertisement: %s", "IO",
  "Icmp6OutRouterSolicits", "router solicits: %s", "IO",
  "Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %s", "IO",
}

local TCP_TAB = entries {
  "ActiveOpens", "%s active connection openings", "N",
  "AttemptFails", "%s failed connection attempts", "N",
  "CurrEstab", "%s connections established", "N", "EstabResets", "%s connection resets received", "N",
  "InErrs", "%s bad segments received", "N", "InSegs", "%s segments received", "N",
  "MaxConn", "", "N", "OutRsts", "%s resets sent", "N", "OutSegs", "%s segments sent out", "N",
  "PassiveOpens", "%s passive connection openings", "N",
  "RetransSegs", "%s segments retransmitted", "N", "RtoAlgorithm", "RTO algorithm is %s", "R",
  "RtoMax", "", "N", "RtoMin", "", "N",
}

local UDP_TAB = entries {
  "InDatagrams", "%s packets received", "N", "InErrors", "%s packet receive errors", "N",
  "NoPorts", "%s packets to unknown port received", "N", "OutDatagrams", "%s packets sent", "N",
  "RcvbufErrors", "%s receive buffer errors", "N", "SndbufErrors", "%s send buffer errors", "N",
}

local UDP6_TAB = entries {
  "Udp6InDatagrams", "%s packets received", "N", "Udp6InErrors", "%s packet receive errors", "N",
  "Udp6NoPorts", "%s packets to unknown port received", "N",
  "Udp6OutDatagrams", "%s packets sent", "N",
}

local TCPEXT_TAB = entries {
  "DelayedACKLocked", "%s delayed acks further delayed because of locked socket", "O",
  "DelayedACKLost", "Quick ack mode was activated %s times", "O",
  "DelayedACKs", "%s delayed acks sent", "O",
  "EmbryonicRsts", "%s resets received for embryonic SYN_RECV sockets", "O",
  "ListenDrops", "%s SYNs to LISTEN sockets dropped", "O",
  "ListenOverflows", "%s times the listen queue of a socket overflowed", "O",
  "LockDroppedIcmps", "%s ICMP packets dropped because socket was locked", "O",
  "OfoPruned", "%s packets dropped from out-of-order queue because of socket buffer overrun", "O",
  "OutOfWindowIcmps", "%s ICMP packets dropped because they were out-of-window", "O",
  "PAWSActive", "%s active connections rejected because of time stamp", "O",
  "PAWSEstab", "%s packets rejected in established connections because of timestamp", "O",
  "PAWSPassive", "%s passive connections rejected because of time stamp", "O",
  "PruneCalled", "%s packets pruned from receive queue because of socket buffer overrun", "O",
  "RcvPruned", "%s packets pruned from receive queue", "O",
  "SockMallocOOM", "Ran %s times out of system memory during packet sending", "O",
  "SyncookiesFailed", "%s invalid SYN cookies received", "O",
  "SyncookiesRecv", "%s SYN cookies received", "O", "SyncookiesSent", "%s SYN cookies sent", "O",
  "TCPAbortFailed", "%s times unable to send RST due to no memory", "O",
  "TCPAbortOnClose", "%s connections reset due to early user close", "O",
  "TCPAbortOnData", "%s connections reset due to unexpected data", "O",
  "TCPAbortOnLinger", "%s connections aborted after user close in linger timeout", "O",
  "TCPAbortOnMemory", "%s connections aborted due to memory pressure", "O",
  "TCPAbortOnSyn", "%s connections reset due to unexpected SYN", "O",
  "TCPAbortOnTimeout", "%s connections aborted due to timeout", "O",
  "TCPDirectCopyFromBacklog", "%s bytes directly in process context from backlog", "O",
  "TCPDirectCopyFromPrequeue", "%s bytes directly received in process context from prequeue", "O",
  "TCPDSACKOfoRecv", "%s DSACKs for out of order packets received", "O",
  "TCPDSACKOfoSent", "%s DSACKs sent for out of order packets", "O",
  "TCPDSACKOldSent", "%s DSACKs sent for old packets", "O",
  "TCPDSACKRecv", "%s DSACKs received", "O",
  "TCPDSackUndo", "%s congestion window recovered without slow start using DSACK", "O",
  "TCPDSACKUndo", "%s congestion windows recovered without slow start by DSACK", "O",
  "TCPFACKReorder", "Detected reordering %s times using FACK", "O",
  "TCPFastRetrans", "%s fast retransmits", "O", "TCPForwardRetrans", "%s forward retransmits", "O",
  "TCPFullUndo", "%s congestion windows fully recovered without slow start", "O",
  "TCPHPAcks", "%s predicted acknowledgments", "O", "TCPHPHits", "%s packet headers predicted", "N",
  "TCPHPHitsToUser", "%s packet headers predicted and directly queued to user", "O",
  "TCPLossFailures", "%s timeouts in loss state", "O", "TCPLoss", "%s TCP data loss events", "O",
  "TCPLossUndo", "%s congestion windows recovered without slow start after partial ack", "O",
  "TCPLostRetransmits", "%s retransmits lost", "O",
  "TCPMemoryPressures", "TCP ran low on memory %s times", "O",
  "TCPPartialUndo", "%s congestion windows partially recovered using Hoe heuristic", "O",
  "TCPPrequeued", "%s packets directly queued to recvmsg prequeue", "O",
  "TCPPrequeueDropped", "%s packets dropped from prequeue", "O",
  "TCPPureAcks", "%s acknowledgments not containing data payload received", "O",
  "TCPRcvCollapsed", "%s packets collapsed in receive queue due to low socket buffer", "O",
  "TCPRenoFailures", "%s timeouts after reno fast retransmit", "O",
  "TCPRenoRecoveryFailed", "%s reno fast retransmits failed", "O",
  "TCPRenoRecoveryFail", "%s classic Reno fast retransmits failed", "O",
  "TCPRenoRecovery", "%s times recovered from packet loss due to fast retransmit", "O",
  "TCPRenoReorder", "Detected reordering %s times using reno fast retransmit", "O",
  "TCPSackFailures", "%s timeouts after SACK recovery", "O",
  "TCPSackRecoveryFail", "%s SACK retransmits failed", "O",
  "TCPSackRecovery", "%s times recovered from packet loss by selective acknowledgements", "O",
  "TCPSACKReneging", "%s bad SACK blocks received", "O",
  "TCPSACKReorder", "Detected reordering %s times using SACK", "O",
  "TCPSchedulerFailed", "%s times receiver scheduled too late for direct processing", "O",
  "TCPSlowStartRetrans", "%s retransmits in slow start", "O",
  "TCPTimeouts", "%s other TCP timeouts", "O",
  "TCPTSReorder", "Detected reordering %s times using time stamp", "O",
  "TWKilled", "%s TCP sockets finished time wait in slow timer", "O",
  "TW", "%s TCP sockets finished time wait in fast timer", "O",
  "TWRecycled", "%s time wait sockets recycled by time stamp", "O",
}

-- Section name -> { table, which -t/-u/-w flag shows it }.
local SNMP_TABS = {
  Ip = { IP_TAB, "raw" }, Icmp = { ICMP_TAB, "raw" }, Tcp = { TCP_TAB, "tcp" },
  Udp = { UDP_TAB, "udp" }, TcpExt = { TCPEXT_TAB, "tcp" },
}
local SNMP6_TABS = {
  Ip6 = { IP6_TAB, "raw" }, Icmp6 = { ICMP6_TAB, "raw" }, Udp6 = { UDP6_TAB, "udp" },
  Tcp6 = { TCP_TAB, "tcp" },
}

-- glibc bsearch over a table in its source order.
local function bsearch(tab, name)
  local lo, hi = 0, #tab
  while lo < hi do
    local idx = floor((lo + hi) / 2)
    local e = tab[idx + 1]
    if name == e.name then return e end
    if name < e.name then hi = idx else lo = idx + 1 end
  end
  return nil
end

-- The order the kernel prints its counters in (Linux 6.x); ns.stats()
-- keys them by name, and netstat prints them in file order. Names a newer
-- kernel adds follow the known ones, sorted.
local FIELD_ORDER = {
  Ip = [[Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos
    InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs
    ReasmFails FragOKs FragFails FragCreates OutTransmits]],
  Icmp = [[InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs
    InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs
    OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs
    OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks
    OutAddrMaskReps]],
  Tcp = [[RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets
    CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors]],
  Udp = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  UdpLite = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  TcpExt = [[SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned
    OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive
    PAWSEstab BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked
    DelayedACKLost ListenOverflows ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery
    TCPSackRecovery TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder TCPFullUndo
    TCPPartialUndo TCPDSACKUndo TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures
    TCPLossFailures TCPFastRetrans TCPSlowStartRetrans TCPTimeouts TCPLossProbes
    TCPLossProbeRecovery TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed
    TCPBacklogCoalesce TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData
    TCPAbortOnClose TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger TCPAbortFailed
    TCPMemoryPressures TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld
    TCPDSACKIgnoredNoUndo TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure
    TCPSackShifted TCPSackMerged TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop
    TCPDeferAcceptDrop IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies
    TCPReqQFullDrop TCPRetransFail TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge
    TCPChallengeACK TCPSYNChallenge TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive
    TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole
    TCPSpuriousRtxHostQueues BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv
    TCPToZeroWindowAdv TCPWantZeroWindowAdv TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect
    TCPHystartTrainCwnd TCPHystartDelayDetect TCPHystartDelayCwnd TCPACKSkippedSynRecv
    TCPACKSkippedPAWS TCPACKSkippedSeq TCPACKSkippedFinWait2 TCPACKSkippedTimeWait
    TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail TCPMTUPSuccess TCPDelivered
    TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig
    TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs
    TCPDSACKIgnoredDubious TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired
    TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps]],
  IpExt = [[InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets
    OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts
    InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps]],
  MPTcpExt = [[MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK
    MPCapableFallbackSYNACK MPCapableSYNTXDrop MPCapableSYNTXDisabled MPCapableEndpAttempt
    MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound MPJoinSynRx MPJoinSynBackupRx
    MPJoinSynAckRx MPJoinSynAckBackupRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure
    MPJoinRejected MPJoinSynTx MPJoinSynTxCreatSkErr MPJoinSynTxBindErr MPJoinSynTxConnectErr
    DSSNotMatching DSSCorruptionFallback DSSCorruptionReset InfiniteMapTx InfiniteMapRx
    DSSNoMatchTCP DataCsumErr OFOQueueTail OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr
    AddAddrTx AddAddrTxDrop EchoAdd EchoAddTx EchoAddTxDrop PortAdd AddAddrDrop MPJoinPortSynRx
    MPJoinPortSynAckRx MPJoinPortAckRx MismatchPortSynRx MismatchPortAckRx RmAddr RmAddrDrop
    RmAddrTx RmAddrTxDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx MPFastcloseTx
    MPFastcloseRx MPRstTx MPRstRx SubflowStale SubflowRecover SndWndShared RcvWndShared
    RcvWndConflictUpdate RcvWndConflict MPCurrEstab Blackhole MPCapableDataFallback
    MD5SigFallback DssFallback SimultConnectFallback FallbackFailed WinProbe]],
  Ip6 = [[InReceives InHdrErrors InTooBigErrors InNoRoutes InAddrErrors InUnknownProtos
    InTruncatedPkts InDiscards InDelivers OutForwDatagrams OutRequests OutDiscards OutNoRoutes
    ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates InMcastPkts
    OutMcastPkts InOctets OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets
    InNoECTPkts InECT1Pkts InECT0Pkts InCEPkts OutTransmits]],
  Icmp6 = [[InMsgs InErrors OutMsgs OutErrors InCsumErrors OutRateLimitHost InDestUnreachs
    InPktTooBigs InTimeExcds InParmProblems InEchos InEchoReplies InGroupMembQueries
    InGroupMembResponses InGroupMembReductions InRouterSolicits InRouterAdvertisements
    InNeighborSolicits InNeighborAdvertisements InRedirects InMLDv2Reports OutDestUnreachs
    OutPktTooBigs OutTimeExcds OutParmProblems OutEchos OutEchoReplies OutGroupMembQueries
    OutGroupMembResponses OutGroupMembReductions OutRouterSolicits OutRouterAdvertisements
    OutNeighborSolicits OutNeighborAdvertisements OutRedirects OutMLDv2Reports]],
  Udp6 = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    IgnoredMulti MemErrors]],
  UdpLite6 = [[InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors
    MemErrors]],
}
local FIELD_RANK = {}
for group, words in pairs(FIELD_ORDER) do
  local rank, i = {}, 0
  for w in words:gmatch("%S+") do
    i = i + 1
    rank[w] = i
  end
  FIELD_RANK[group] = rank
end

-- "InType3" / "OutType135": per-type ICMP counters, In before Out, by type.
local function type_rank(name)
  local dir, n = name:match("^(%a-)Type(%d+)$")
  if dir == "In" then return tonumber(n) end
  if dir == "Out" then return 1000 + tonumber(n) end
  return nil
end

-- The fields of one group in kernel order: {name, value} pairs.
local function ordered_fields(group, values)
  local rank = FIELD_RANK[group] or {}
  local known, extra, typed = {}, {}, {}
  for k, v in pairs(values) do
    if type(v) == "number" then
      if rank[k] then known[#known + 1] = k
      elseif type_rank(k) then typed[#typed + 1] = k
      else extra[#extra + 1] = k end
    end
  end
  sort(known, function(a, b) return rank[a] < rank[b] end)
  sort(extra)
  sort(typed, function(a, b) return type_rank(a) < type_rank(b) end)
  local out = {}
  for _, list in ipairs { known, extra, typed } do
    for _, k in ipairs(list) do out[#out + 1] = { k, values[k] } end
  end
  return out
end

local SNMP_GROUPS = { "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt" }
local SNMP6_GROUPS = { "Ip6", "Icmp6", "Udp6", "UdpLite6" }
local NOT_SNMP = { sockstat = true, partial = true, snmp6 = true }
for _, g in ipairs(SNMP6_GROUPS) do NOT_SNMP[g] = true end

--- netstat -s: the counters of ns.stats() with netstat's wording. flags:
-- tcp/udp/raw select sections as -t/-u/-w do (all when none of them nor
-- udplite/sctp is set: -U alone prints only the sections without a table), inet6
-- (without inet) prints the IPv6 counters as netstat -s -6.
function M.statistics_text(stats, flags)
  need_table("statistics_text", 1, stats)
  need_opts("statistics_text", 2, flags)
  flags = flags or {}
  local show = { tcp = flags.tcp, udp = flags.udp, raw = flags.raw }
  -- -U (or -S) alone selects none of netstat's tables: only the sections
  -- it has no table for are printed, as netstat -sU does
  if not (show.tcp or show.udp or show.raw or flags.udplite or flags.sctp) then
    show.tcp, show.udp, show.raw = true, true, true
  end
  local out = {}
  local state = NUMBER
  local function emit(indent, text) out[#out + 1] = rep(" ", indent) .. text .. "\n" end
  -- newtable + printval, as statistics.c
  local function section(title, tabs, fields, full_prefix)
    local known = tabs[title]
    local tab, on
    if known then
      tab, on = known[1], show[known[2]]
      if on then out[#out + 1] = title .. ":\n" end
      state = NUMBER
    else
      out[#out + 1] = title .. ":\n"
      on = true
    end
    if not on then return end
    for _, f in ipairs(fields) do
      local name, value = (full_prefix or "") .. f[1], f[2]
      local e = tab and bsearch(tab, name)
      if not e then
        if value ~= 0 then emit(INDENT[state], name .. ": " .. unsigned_text(value)) end
      elseif not e.static and e.text ~= "" then
        local kind = e.type
        if e.titled and state ~= kind then emit(INDENT[state], HISTOGRAM_TITLE[kind]) end
        local text
        if kind == NUMBER or (kind == OPT_NUMBER and value ~= 0) then
          text = sformat(e.text, unsigned_text(value))
        elseif (kind == ICMP_IN or kind == ICMP_OUT) and value ~= 0 then
          -- netstat's "val > 0" on an unsigned value: a u64 above 2^63
          -- is a negative integer here, and is printed too
          text = sformat(e.text, unsigned_text(value))
        end
        if text then emit(INDENT[kind], text) end
        state = kind
      end
    end
  end
  if flags.inet6 and not flags.inet then
    for _, g in ipairs(SNMP6_GROUPS) do
      local values = stats[g]
      if values then section(g, SNMP6_TABS, ordered_fields(g, values), g) end
    end
    if stats.Tcp then section("Tcp", SNMP_TABS, ordered_fields("Tcp", stats.Tcp)) end
    return concat(out)
  end
  local groups, seen = {}, {}
  for _, g in ipairs(SNMP_GROUPS) do
    groups[#groups + 1] = g
    seen[g] = true
  end
  local others = {}
  for g, v in pairs(stats) do
    if type(v) == "table" and not seen[g] and not NOT_SNMP[g] then others[#others + 1] = g end
  end
  sort(others)
  for _, g in ipairs(others) do groups[#groups + 1] = g end
  for _, g in ipairs(groups) do
    local values = stats[g]
    if values then
      local fields = ordered_fields(g, values)
      if g == "IcmpMsg" then
        -- the kernel writes 16 per-type counters per line pair, and
        -- netstat starts a section for each pair
        for first = 1, #fields, 16 do
          local chunk = {}
          for i = first, first + 15 do chunk[#chunk + 1] = fields[i] end
          section(g, SNMP_TABS, chunk)
        end
      else
        section(g, SNMP_TABS, fields)
      end
    end
  end
  return concat(out)
end

return M
