-- Trims the revocation stream by the server's own time, as stream IDs are. ARGV: retention
-- in ms.
local t = redis.call('TIME')
local oldest = tonumber(t[1]) * 1000 - tonumber(ARGV[1])
if oldest > 0 then redis.call('XTRIM', 'jwtkit:revocations', 'MINID', oldest) end
return 0
