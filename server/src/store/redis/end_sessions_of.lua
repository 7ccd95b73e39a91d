-- Ends every session of a subject. KEYS: the subject's sessions. ARGV: until.
local count = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  count = count + revoke(sid, ARGV[1])
end
return count
