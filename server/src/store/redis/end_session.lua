-- Ends one session. ARGV: sid, until, now.
local _, shift = clock(ARGV[3])
return revoke(ARGV[1], tonumber(ARGV[2]) + shift)
