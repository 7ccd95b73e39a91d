-- Adds an account unless its username or its subject is taken. KEYS: the accounts (username
-- -> record), the subjects (sub -> username). ARGV: username, sub, record. 1 if added.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
