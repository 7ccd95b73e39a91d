-- KEYS[1]: the key ring's hash; ARGV[1]: the version the writer read (0: none); ARGV[2]: the
-- new document. Writes version + 1 and the document only if the ring is still at that version.
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'version', current + 1, 'document', ARGV[2])
return 1
