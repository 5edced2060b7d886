-- The project's requirement manifest: every R-* rule of the PROXY protocol spec
-- (spec revision 2026/04/27, numbering of shared/spec/requirements.md), in our own words.
-- level: MUST / SHOULD / MAY / INFO; binds: S (sender), R (receiver), S+R (format rule);
-- derived = the rule follows from the grammar or structure rather than a keyword.
-- `ppconform coverage` checks the cases' refs against this list; a receiver MUST without
-- a case fails it, unless it says why it does not apply (not_applicable = "reason").

requirement { id = "R-GEN-01", section = "2", level = "MUST", binds = "S+R", derived = true,
  text = "The header comes first on the connection, sent by the side that opens it; everything after it is relayed data." }
requirement { id = "R-GEN-02", section = "2", level = "MUST", binds = "S+R", derived = true,
  text = "Nobody waits and nobody answers: the sender writes the header at once and the receiver never replies to it." }
requirement { id = "R-GEN-03", section = "2", level = "MUST", binds = "R", derived = true,
  text = "Carried source and destination stand in for the socket's peer and local addresses." }
requirement { id = "R-GEN-04", section = "2", level = "MAY", binds = "S",
  text = "A v1 sender may emit only the text form." }
requirement { id = "R-GEN-05", section = "2", level = "MAY", binds = "S",
  text = "A v2 sender may emit only the binary form." }
requirement { id = "R-GEN-06", section = "2", level = "MUST", binds = "R",
  text = "A v1 receiver understands at least the text form." }
requirement { id = "R-GEN-07", section = "2", level = "MUST", binds = "R",
  text = "A v2 receiver understands at least the binary form." }
requirement { id = "R-GEN-08", section = "2", level = "SHOULD", binds = "R",
  text = "A v2 receiver should understand the text form too." }
requirement { id = "R-GEN-09", section = "2, 2.1, 2.2", level = "MUST", binds = "S",
  text = "The sender hands the whole header to the transport in one write." }
requirement { id = "R-GEN-10", section = "2", level = "SHOULD", binds = "R",
  text = "A receiver may drop a header that arrives in pieces, but tolerating fragments is recommended." }
requirement { id = "R-GEN-11", section = "2", level = "MUST", binds = "R",
  text = "Nothing is processed (no parsing, no greeting) until a complete valid header is in." }
requirement { id = "R-GEN-12", section = "2", level = "MAY", binds = "R",
  text = "A receiver may give up on a missing header after a delay, which should be 3 s or more." }
requirement { id = "R-GEN-13", section = "2", level = "MUST", binds = "R",
  text = "PROXY is enabled per listener by configuration; on such a listener the header is required." }
requirement { id = "R-GEN-14", section = "2, 5", level = "MUST", binds = "R",
  text = "Never guess whether a header is present; one listener cannot serve both direct and proxied clients." }
requirement { id = "R-GEN-15", section = "2, 5", level = "SHOULD", binds = "R",
  text = "Only trusted proxies should be able to reach a PROXY listener." }
requirement { id = "R-GEN-16", section = "2", level = "MUST", binds = "S",
  text = "A proxy that multiplexes several clients on one server connection does not send the header there." }
requirement { id = "R-GEN-17", section = "2", level = "MUST", binds = "S",
  text = "Such proxies carry the client address in the application protocol instead." }
requirement { id = "R-GEN-18", section = "2, 2.1, 2.2", level = "INFO", binds = "S+R",
  text = "Address-only headers fit in 536 bytes; headers with TLVs may not (up to 65551 bytes)." }
requirement { id = "R-UDP-01", section = "2", level = "MUST", binds = "S",
  text = "Over UDP the header and the payload share one datagram." }
requirement { id = "R-UDP-02", section = "2", level = "MUST", binds = "S",
  text = "A header never spans datagrams." }
requirement { id = "R-UDP-03", section = "2", level = "MUST", binds = "R",
  not_applicable = "UDP only: the suite tests PROXY over TCP (EC-U-* need a UDP listener)",
  text = "Each datagram is parsed on its own; no header state carries over." }
requirement { id = "R-DET-01", section = "2.2", level = "MAY", binds = "R",
  text = "A receiver may accept both versions and tell them apart; it may not detect whether a header exists." }
requirement { id = "R-DET-02", section = "2.2", level = "MUST", binds = "R", derived = true,
  text = "It is v2 when 16 bytes start with the signature and the version nibble is 2." }
requirement { id = "R-DET-03", section = "2.2", level = "MUST", binds = "R",
  text = "Otherwise it is v1 when 8 bytes start with \"PROXY\"." }
requirement { id = "R-DET-04", section = "2.2", level = "MUST", binds = "R",
  text = "Anything else is not this protocol and the connection is dropped." }
requirement { id = "R-DET-05", section = "2", level = "INFO", binds = "S+R",
  text = "Both forms differ from HTTP, TLS, FTP, SMTP and from each other in their first byte." }
requirement { id = "R-DET-06", section = "2.2", level = "MUST", binds = "S+R",
  text = "The v2 signature holds a NUL byte, so C string functions must not handle it." }
requirement { id = "R-V1-01", section = "2.1", level = "MUST", binds = "S", derived = true,
  text = "The v1 header is one US-ASCII line, sent first and in one piece." }
requirement { id = "R-V1-02", section = "2.1", level = "MUST", binds = "S+R",
  text = "The line begins with exactly \"PROXY\", case-sensitive." }
requirement { id = "R-V1-03", section = "2.1", level = "MUST", binds = "S+R",
  text = "Fields are separated by exactly one space." }
requirement { id = "R-V1-04", section = "2.1", level = "MUST", binds = "S+R",
  text = "The protocol is TCP4, TCP6 or UNKNOWN." }
requirement { id = "R-V1-05", section = "2.1", level = "MUST", binds = "S",
  text = "Anything but TCP over IPv4 or IPv6 is announced as UNKNOWN." }
requirement { id = "R-V1-06", section = "2.1", level = "MAY", binds = "S",
  text = "After UNKNOWN the rest of the line may be left out." }
requirement { id = "R-V1-07", section = "2.1", level = "MUST", binds = "R",
  text = "After UNKNOWN the receiver ignores everything up to CRLF." }
requirement { id = "R-V1-08", section = "2.1", level = "SHOULD", binds = "R",
  text = "With UNKNOWN the receiver should accept and keep the real endpoints." }
requirement { id = "R-V1-09", section = "2.1", level = "SHOULD", binds = "S",
  text = "Senders use UNKNOWN only when they cannot fill in a correct line." }
requirement { id = "R-V1-10", section = "2.1", level = "SHOULD", binds = "S",
  text = "A sender speaking for itself should avoid UNKNOWN." }
requirement { id = "R-V1-11", section = "2.1", level = "SHOULD", binds = "S",
  text = "Health checks should carry a real TCP4/TCP6 line from the sender's own socket." }
requirement { id = "R-V1-12", section = "2.1", level = "MUST", binds = "S+R",
  text = "Field order: source address, destination address, source port, destination port." }
requirement { id = "R-V1-13", section = "2.1", level = "MUST", binds = "S+R",
  text = "IPv4 is four decimal numbers 0..255 joined by dots." }
requirement { id = "R-V1-14", section = "2.1", level = "MUST", binds = "S+R",
  text = "IPv4 numbers have no leading zeros." }
requirement { id = "R-V1-15", section = "2.1", level = "MUST", binds = "S+R",
  text = "IPv6 is hex groups with at most one \"::\", 128 bits in all." }
requirement { id = "R-V1-16", section = "2.1", level = "MUST", binds = "S", derived = true,
  text = "The \"::\" should compress the longest run of zero groups." }
requirement { id = "R-V1-17", section = "2.1", level = "MUST", binds = "S+R",
  text = "Addresses match the announced family, and both are of that family." }
requirement { id = "R-V1-18", section = "2.1", level = "MUST", binds = "S+R",
  text = "Ports are decimal 0..65535." }
requirement { id = "R-V1-19", section = "2.1", level = "MUST", binds = "S+R",
  text = "Ports have no leading zeros." }
requirement { id = "R-V1-20", section = "2.1", level = "MUST", binds = "S+R",
  text = "The line ends in CRLF." }
requirement { id = "R-V1-21", section = "2.1", level = "MUST", binds = "R",
  text = "Receivers handle lines up to 107 bytes, CRLF included." }
requirement { id = "R-V1-22", section = "2.1", level = "MUST", binds = "R",
  text = "Addresses are decoded only after the CRLF is seen." }
requirement { id = "R-V1-23", section = "2.1", level = "SHOULD", binds = "R",
  text = "No CRLF within 107 bytes makes the line invalid." }
requirement { id = "R-V1-24", section = "2.1", level = "MAY", binds = "R",
  text = "A receiver may refuse a line whose CRLF was not in the first read." }
requirement { id = "R-V1-25", section = "2.1", level = "MUST", binds = "R",
  text = "A lone CR or a lone LF never ends the line." }
requirement { id = "R-V1-26", section = "2.1", level = "MUST", binds = "R",
  text = "Input that departs from the grammar is refused and the connection aborted." }
requirement { id = "R-V1-27", section = "2.1", level = "SHOULD", binds = "R",
  text = "Abort as early as the bytes allow." }
requirement { id = "R-V1-28", section = "2.1, 9", level = "MUST", binds = "R", derived = true,
  text = "The line and its CRLF are removed; the next byte is application data." }
requirement { id = "R-V1-29", section = "2.1", level = "SHOULD", binds = "S",
  text = "The line is shorter than an MSS, so senders write it at once." }
requirement { id = "R-V2-01", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Bytes 1-12 are the fixed v2 signature." }
requirement { id = "R-V2-02", section = "2.2", level = "MUST", binds = "S",
  text = "Senders put version 2 in the high nibble of byte 13." }
requirement { id = "R-V2-03", section = "2.2", level = "MUST", binds = "R",
  text = "Receivers accept no version other than 2." }
requirement { id = "R-V2-04", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "The low nibble of byte 13 is the command: 0 LOCAL, 1 PROXY." }
requirement { id = "R-V2-05", section = "2.2", level = "MUST", binds = "S",
  text = "Senders never emit other command values." }
requirement { id = "R-V2-06", section = "2.2", level = "MUST", binds = "R",
  text = "Receivers drop connections with any other command." }
requirement { id = "R-V2-07", section = "2.2", level = "MUST", binds = "R",
  text = "LOCAL: accept, keep the real endpoints, ignore the address block and the family byte." }
requirement { id = "R-V2-08", section = "2.2", level = "INFO", binds = "S",
  text = "LOCAL marks connections the proxy opens for itself, such as health checks." }
requirement { id = "R-V2-09", section = "2.2", level = "MUST", binds = "R",
  text = "PROXY: the original endpoints come from the address block." }
requirement { id = "R-V2-10", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Byte 14 holds the family (high nibble) and the transport (low nibble)." }
requirement { id = "R-V2-11", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Families: 0 UNSPEC, 1 INET, 2 INET6, 3 UNIX (wire codes, not AF_* values)." }
requirement { id = "R-V2-12", section = "2.2", level = "MUST", binds = "S",
  text = "Senders never use family nibbles 4-15." }
requirement { id = "R-V2-13", section = "2.2", level = "MUST", binds = "R",
  text = "Receivers refuse family nibbles 4-15." }
requirement { id = "R-V2-14", section = "2.2", level = "SHOULD", binds = "S",
  text = "Senders use UNSPEC for LOCAL and for what they cannot describe." }
requirement { id = "R-V2-15", section = "2.2", level = "MAY", binds = "R",
  text = "On UNSPEC a receiver may accept with the real endpoints or refuse, and should ignore addresses." }
requirement { id = "R-V2-16", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "INET carries two 4-byte addresses in network order, then ports." }
requirement { id = "R-V2-17", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "INET6 carries two 16-byte addresses in network order, then ports." }
requirement { id = "R-V2-18", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "UNIX carries two 108-byte paths and no ports." }
requirement { id = "R-V2-19", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Transports: 0 UNSPEC, 1 STREAM, 2 DGRAM." }
requirement { id = "R-V2-20", section = "2.2", level = "MUST", binds = "S+R",
  text = "Transport nibbles 3-15 are never sent and always refused." }
requirement { id = "R-V2-21", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "INET/INET6 ports follow the addresses, source first, big-endian." }
requirement { id = "R-V2-22", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Byte 14 values and block sizes: 0x00 0, 0x11/0x12 12, 0x21/0x22 36, 0x31/0x32 216." }
requirement { id = "R-V2-23", section = "2.2", level = "MUST", binds = "R",
  text = "0x00 with LOCAL: accept and ignore any addresses." }
requirement { id = "R-V2-24", section = "2.2", level = "MAY", binds = "R",
  text = "0x00 with PROXY: accept with the real endpoints or refuse; addresses are ignored." }
requirement { id = "R-V2-25", section = "2.2", level = "MUST", binds = "R", derived = true,
  text = "0x00 must be implemented; an unimplemented valid combination falls back to UNSPEC behaviour." }
requirement { id = "R-V2-26", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Bytes 15-16 are the big-endian count of bytes after byte 16; the header is 16 + len bytes." }
requirement { id = "R-V2-27", section = "2.2", level = "SHOULD", binds = "S",
  text = "A LOCAL header has len 0 unless TLVs follow." }
requirement { id = "R-V2-28", section = "2.2", level = "MUST", binds = "R",
  text = "Receivers always skip by len, for LOCAL and unknown families too; never assume 0." }
requirement { id = "R-V2-29", section = "2.2", level = "MAY", binds = "R",
  text = "When accepting UNSPEC, logging any addresses present is optional." }
requirement { id = "R-V2-30", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "Address block order: source L3, destination L3, source port, destination port." }
requirement { id = "R-V2-31", section = "2.2", level = "MUST", binds = "S",
  text = "Senders write the whole v2 header at once." }
requirement { id = "R-V2-32", section = "2.2", level = "SHOULD", binds = "R",
  text = "Receivers should process the header in one go." }
requirement { id = "R-V2-33", section = "2.2", level = "MUST", binds = "R",
  text = "No address is parsed before the whole block is in." }
requirement { id = "R-V2-34", section = "2.2", level = "MUST", binds = "R",
  text = "A header that never completes is refused." }
requirement { id = "R-V2-35", section = "2.2", level = "MAY", binds = "R",
  text = "Bytes past the address block may be skipped or read as TLVs." }
requirement { id = "R-V2-36", section = "2.2", level = "MUST", binds = "R", derived = true,
  text = "A len smaller than the family's address block is malformed." }
requirement { id = "R-V2-37", section = "2.2, 9", level = "MUST", binds = "R", derived = true,
  text = "Exactly 16 + len bytes are consumed; the next byte is application data." }
requirement { id = "R-TLV-01", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "A TLV is a type byte, a big-endian 2-byte length and the value." }
requirement { id = "R-TLV-02", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "TLVs sit between the address block and byte 16 + len." }
requirement { id = "R-TLV-03", section = "2.2", level = "MAY", binds = "R",
  text = "Receivers may skip TLVs they do not know or need." }
requirement { id = "R-TLV-04", section = "2.2", level = "MAY", binds = "S",
  text = "Every TLV is optional for senders." }
requirement { id = "R-TLV-05", section = "2.2.4", level = "INFO", binds = "S+R",
  text = "A TLV is at least 3 bytes." }
requirement { id = "R-TLV-06", section = "2.2", level = "MUST", binds = "R", derived = true,
  text = "A TLV whose value runs past the header end is malformed; never read beyond it." }
requirement { id = "R-TLV-07", section = "2.2", level = "MUST", binds = "R", derived = true,
  text = "One or two leftover bytes in the TLV area are malformed." }
requirement { id = "R-TLV-08", section = "2.2", level = "MUST", binds = "S+R", derived = true,
  text = "0x21-0x28 are SSL sub-types, valid only inside an SSL TLV." }
requirement { id = "R-ALPN-01", section = "2.2.1", level = "MUST", binds = "S+R", derived = true,
  text = "ALPN (0x01) is an opaque protocol name, usually the negotiated one." }
requirement { id = "R-AUTH-01", section = "2.2.2", level = "MUST", binds = "S+R", derived = true,
  text = "AUTHORITY (0x02) is the client's host name as UTF-8 without terminator." }
requirement { id = "R-AUTH-02", section = "2.2.2", level = "MUST", binds = "S", derived = true,
  text = "Over TLS, AUTHORITY copies the SNI server name." }
requirement { id = "R-CRC-01", section = "2.2.3", level = "MUST", binds = "S+R", derived = true,
  text = "CRC32C (0x03) has a 4-byte value." }
requirement { id = "R-CRC-02", section = "2.2.3", level = "MUST", binds = "S",
  text = "A sender zeroes the value before computing the checksum." }
requirement { id = "R-CRC-03", section = "2.2.3", level = "MUST", binds = "S",
  text = "The checksum is CRC32c (Castagnoli) over the whole 16 + len bytes." }
requirement { id = "R-CRC-04", section = "2.2.3", level = "MUST", binds = "S",
  text = "The sender writes the result and changes nothing else." }
requirement { id = "R-CRC-05", section = "2.2.3", level = "MUST", binds = "R",
  text = "A receiver that supports it recomputes the checksum with the value zeroed." }
requirement { id = "R-CRC-06", section = "2.2.3", level = "MUST", binds = "R",
  text = "A mismatch makes the connection invalid." }
requirement { id = "R-CRC-07", section = "2.2.3", level = "INFO", binds = "R",
  text = "An invalid connection is normally aborted." }
requirement { id = "R-CRC-08", section = "2.2.3, 2.2", level = "MAY", binds = "R",
  text = "A receiver without CRC support may ignore the TLV." }
requirement { id = "R-NOOP-01", section = "2.2.4", level = "SHOULD", binds = "R",
  text = "NOOP (0x04) is ignored." }
requirement { id = "R-NOOP-02", section = "2.2.4", level = "MAY", binds = "S",
  text = "NOOP holds any bytes for padding; it cannot pad by less than 3 bytes." }
requirement { id = "R-UID-01", section = "2.2.5", level = "MUST", binds = "S", derived = true,
  text = "UNIQUE_ID (0x05) is opaque and at most 128 bytes." }
requirement { id = "R-UID-02", section = "2.2.5", level = "INFO", binds = "S+R",
  text = "UNIQUE_ID correlates one connection across proxy layers." }
requirement { id = "R-SSL-01", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "SSL (0x20) value: packed client byte, 4-byte verify, sub-TLVs; at least 5 bytes." }
requirement { id = "R-SSL-02", section = "2.2.6", level = "MUST", binds = "S", derived = true,
  text = "verify is 0 only for a presented and verified client certificate." }
requirement { id = "R-SSL-03", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "client flags: 0x01 SSL, 0x02 CERT_CONN, 0x04 CERT_SESS." }
requirement { id = "R-SSL-04", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "Sub-TLVs use the TLV layout and the SSL length counts them all." }
requirement { id = "R-SSL-05", section = "2.2.6", level = "MUST", binds = "S", derived = true,
  text = "With the SSL flag the TLS version is sent as sub-TLV 0x21." }
requirement { id = "R-SSL-06", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "CERT_CONN: a certificate was presented on this connection." }
requirement { id = "R-SSL-07", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "CERT_SESS: a certificate was presented at least once in this TLS session." }
requirement { id = "R-SSL-08", section = "2.2.6", level = "MUST", binds = "S", derived = true,
  text = "0x22 is the client certificate's subject CN in UTF-8." }
requirement { id = "R-SSL-09", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "0x23 is the cipher name." }
requirement { id = "R-SSL-10", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "0x24 is the signature algorithm of the proxy's certificate." }
requirement { id = "R-SSL-11", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "0x25 is the key algorithm of the proxy's certificate." }
requirement { id = "R-SSL-12", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "0x26 is the key-exchange group." }
requirement { id = "R-SSL-13", section = "2.2.6", level = "MUST", binds = "S+R", derived = true,
  text = "0x27 is the signature scheme the proxy used." }
requirement { id = "R-SSL-14", section = "2.2.6", level = "MAY", binds = "S",
  text = "0x28 may carry the client certificate in DER." }
requirement { id = "R-SSL-15", section = "2.2.6", level = "MUST", binds = "R", derived = true,
  text = "Sub-TLVs lie wholly inside the SSL value; an overrun is malformed." }
requirement { id = "R-NETNS-01", section = "2.2.7", level = "MUST", binds = "S+R", derived = true,
  text = "NETNS (0x30) names the network namespace in US-ASCII." }
requirement { id = "R-RSV-01", section = "2.2.8", level = "MUST", binds = "S+R", derived = true,
  text = "0xE0-0xEF are for applications and never assigned." }
requirement { id = "R-RSV-02", section = "2.2.8", level = "SHOULD", binds = "S",
  text = "0xF0-0xF7 are for experiments, not production." }
requirement { id = "R-RSV-03", section = "2.2.8", level = "MUST", binds = "S+R", derived = true,
  text = "0xF8-0xFF are reserved for future use." }
requirement { id = "R-RSV-04", section = "2.2, 2.2.8", level = "MAY", binds = "R",
  text = "Receivers skip reserved or unassigned types they are not configured for." }
requirement { id = "R-SEC-01", section = "5", level = "MUST", binds = "R",
  text = "Whether to decode a header comes only from configuration, never from detection." }
requirement { id = "R-SEC-02", section = "5", level = "INFO", binds = "R",
  text = "Accepting headers only from known sources is safe." }
requirement { id = "R-SEC-03", section = "5, 6", level = "INFO", binds = "S+R",
  text = "The formats cannot be mistaken for HTTP and friends, so misconfiguration shows at once." }
