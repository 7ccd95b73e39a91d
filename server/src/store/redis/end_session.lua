-- Ends one session. ARGV: sid, until.
return revoke(ARGV[1], ARGV[2])
