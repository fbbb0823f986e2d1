"""The SQL of ``bench/fill.py``, statement by statement (kept apart: the steps read
better without a thousand lines of SQL between them)."""

PUBLISHED = ("done", "expired_pub", "cancel_pub", "open", "full", "signed_in", "signed_out")

# --- the SQL ----------------------------------------------------------------------------------
# Parameters are %(name)s (see _Filler.p). Randomness is random(): sizes and states are exact,
# who and when vary. Rare states are picked with mod() so that small fills have them too.

TEMP_TABLES = [
    "fill_person", "fill_street", "fill_base", "fill_m", "fill_vol", "fill_eld", "fill_hard",
    "fill_rel", "fill_day", "fill_n0", "fill_n1", "fill_n2", "fill_need", "fill_place",
    "fill_a0", "fill_asg", "fill_tx", "fill_vm", "fill_spend", "fill_pgift", "fill_xo",
    "fill_served", "fill_a1", "fill_who", "fill_close",
]  # fmt: skip

LOCAL = "AT TIME ZONE %(tz)s"
WRITTEN_TABLES = [
    "accounts_user", "accounts_member", "accounts_training", "accounts_insurance",
    "accounts_relative", "accounts_integrityrecord", "ledger_account", "ledger_transfer",
    "ledger_dailycredit", "ledger_gift", "orders_servicerequest", "orders_place",
    "orders_assignment", "orders_evaluation", "orders_signrecord", "orders_orderevent",
    "exchange_exchangeorder", "honour_honourstatus", "honour_levelreached",
]  # fmt: skip
# Plain indexes: partial and expression ones stay (built again, PostgreSQL would store
# their expressions in another, if equivalent, form).
SQL_PLAIN_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = %(table)s::regclass AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
# User triggers firing on INSERT (tgtype bit 4) on the tables the fill writes.
SQL_INSERT_TRIGGERS = """
SELECT tgrelid::regclass::text || '.' || tgname FROM pg_trigger
WHERE NOT tgisinternal AND tgtype & 4 <> 0 AND tgrelid::regclass::text = ANY(%(tables)s)
"""
# The table's primary key last, after the foreign keys that point at it.
SQL_KEY_CONSTRAINTS = """
SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
FROM pg_constraint
WHERE (contype = 'f' AND confrelid = %(table)s::regclass)
   OR (contype = 'p' AND conrelid = %(table)s::regclass)
ORDER BY contype = 'p', conname
"""
SQL_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%(tables)s)
ORDER BY 1, 2
"""

SQL_STREETS_AND_BASES = """
CREATE TEMP TABLE fill_street AS
SELECT * FROM unnest(%(st_ids)s::bigint[], %(st_names)s::text[], %(st_staff)s::bigint[],
    %(st_adv)s::bigint[], %(st_lat)s::float8[], %(st_lng)s::float8[], %(st_point)s::bigint[],
    %(st_clerk)s::bigint[])
  WITH ORDINALITY AS s(street_id, name, staff, advisor, lat, lng, point, clerk, idx);
CREATE TEMP TABLE fill_base AS
SELECT * FROM unnest(%(b_ids)s::bigint[], %(b_street)s::int[], %(b_acct)s::bigint[],
    %(b_staff)s::bigint[], %(b_addr)s::text[], %(b_lat)s::float8[], %(b_lng)s::float8[])
  WITH ORDINALITY AS b(base_id, street_idx, account_id, staff, address, lat, lng, idx);
"""

# Members: a fifth of each role joined before the years began (the pilot's first
# cohort), the rest over the years; those waiting for review joined in the last month.
SQL_MEMBERS = """
CREATE TEMP TABLE fill_m AS
WITH p AS (
  SELECT f.*, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5,
         random() AS u6
  FROM fill_person f),
s AS (
  SELECT p.*, nextval(%(seq_user)s) AS user_id, nextval(%(seq_member)s) AS member_id,
         nextval(%(seq_account)s) AS account_id, %(j0)s::bigint + p.i AS j,
         1 + floor(u2 * %(n_streets)s)::int AS street_idx,
         CASE p.role
           WHEN 'volunteer' THEN CASE WHEN u1 < 0.90 THEN 'verified' WHEN u1 < 0.95 THEN 'applied'
                                      WHEN u1 < 0.98 THEN 'rejected' ELSE 'suspended' END
           WHEN 'elder' THEN CASE WHEN u1 < 0.95 THEN 'verified' WHEN u1 < 0.99 THEN 'applied'
                                  ELSE 'rejected' END
           ELSE 'verified' END AS status,
         p.role <> 'elder' OR u5 < 0.85 AS has_phone
  FROM p),
t AS (
  SELECT s.*,
    CASE WHEN status = 'applied' THEN %(now)s - (1 + u3 * 29) * interval '1 day'
         WHEN u4 < 0.2 THEN %(t0)s - (1 + u3 * 60) * interval '1 day'
         ELSE %(t0)s + u3 * (%(now)s - %(t0)s - interval '10 days') END AS created_at
  FROM s)
SELECT t.*,
  CASE WHEN status <> 'applied' THEN created_at + (0.5 + u6 * 3) * interval '1 day' END
    AS reviewed_at,
  CASE WHEN has_phone THEN '+86' || (15000000000 + mod(j * 387420489, 1000000000))::text END
    AS phone,
  {name} AS full_name,
  role = 'elder' AND status = 'verified' AND mod(i, 33) = 0 AS in_hardship
FROM t;
ANALYZE fill_m;
"""

SQL_INSERT_USERS = """
INSERT INTO accounts_user (id, password, last_login, is_superuser, username, first_name,
  last_name, email, is_staff, is_active, date_joined, phone, phone_verified, full_name)
SELECT user_id, '!' || md5(%(key)s || j), NULL, false, 'fill-' || j, '', '', '', false, true,
  created_at, phone, phone IS NOT NULL, full_name
FROM fill_m ORDER BY user_id
"""

SQL_INSERT_MEMBERS = """
INSERT INTO accounts_member (id, role, status, review_reason, reviewed_at,
  id_number_encrypted, id_number_hash, id_number_masked, birth_date, sex,
  emergency_contact_name, emergency_contact_phone, assessment_level, created_at,
  registered_by_id, reviewed_by_id, street_id, user_id, guardian_name, guardian_phone,
  id_document_back, id_document_front, capacity, hardship_note, in_hardship)
SELECT m.member_id, m.role, m.status,
  CASE m.status WHEN 'rejected' THEN '身份证照片不清晰，请重新上传。'
                WHEN 'suspended' THEN '多次爽约，暂停服务。' ELSE '' END,
  m.reviewed_at, m.enc, m.hash, m.masked, m.birth, m.sex, '', '',
  CASE WHEN m.role = 'elder' THEN 2 + mod(m.i, 4) END, m.created_at,
  CASE WHEN NOT m.has_phone THEN s.advisor END,
  CASE WHEN m.reviewed_at IS NOT NULL THEN s.staff END,
  s.street_id, m.user_id, '', '', '', '',
  CASE m.role WHEN 'volunteer' THEN 'provide' ELSE 'receive' END,
  CASE WHEN m.in_hardship THEN '独居高龄，低保' ELSE '' END, m.in_hardship
FROM fill_m m JOIN fill_street s ON s.idx = m.street_idx ORDER BY m.member_id
"""

SQL_PEOPLE = [
    """
INSERT INTO ledger_account (id, kind, system_role, posted_debits, posted_credits,
  pending_debits, pending_credits, max_balance, created_at, base_id, district_id, user_id)
SELECT account_id, 'member', '', 0, 0, 0, 0, %(cap)s, created_at, NULL, NULL, user_id
FROM fill_m ORDER BY account_id;
ANALYZE ledger_account;
""",
    """
INSERT INTO accounts_training (course, completed_on, member_id, recorded_by_id)
SELECT '为老服务志愿者岗前培训', (m.reviewed_at """
    + LOCAL
    + """)::date - 3, m.member_id, s.staff
FROM fill_m m JOIN fill_street s ON s.idx = m.street_idx
WHERE m.role = 'volunteer' AND m.status = 'verified'
""",
    """
INSERT INTO accounts_insurance (insurer, policy_number, valid_from, valid_until, member_id)
SELECT '中国人民财产保险', 'PICC-' || j, %(today)s::date - mod(i, 300),
  %(today)s::date - mod(i, 300) + 365, member_id
FROM fill_m WHERE role = 'volunteer' AND status = 'verified'
""",
    # The pools services draw from, in the order people were verified.
    """
CREATE TEMP TABLE fill_vol AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id, member_id,
  street_idx, reviewed_at
FROM fill_m WHERE role = 'volunteer' AND status = 'verified';
CREATE TEMP TABLE fill_eld AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id, member_id,
  street_idx, reviewed_at, has_phone, phone, in_hardship, NULL::bigint AS fam
FROM fill_m WHERE role = 'elder' AND status = 'verified';
CREATE TEMP TABLE fill_hard AS
SELECT row_number() OVER (ORDER BY reviewed_at, user_id) AS k, user_id, account_id
FROM fill_eld WHERE in_hardship;
ANALYZE fill_vol; ANALYZE fill_eld;
""",
    # Family members, and some volunteers, are the confirmed children of an elder of their
    # street; a few volunteers' declarations wait for the street.
    """
CREATE TEMP TABLE fill_rel AS
WITH e AS (
  SELECT e.*, row_number() OVER (PARTITION BY street_idx ORDER BY k) AS ks,
         count(*) OVER (PARTITION BY street_idx) AS ns
  FROM fill_eld e),
c AS (
  SELECT m.*, e.user_id AS elder, e.account_id AS elder_account, e.phone AS elder_phone,
    CASE WHEN m.role = 'volunteer' AND mod(m.i, 100) = 9 THEN 'pending' ELSE 'confirmed' END
      AS rel_status,
    greatest(m.reviewed_at, e.reviewed_at) AS known_at
  FROM fill_m m
  JOIN (SELECT DISTINCT street_idx, ns FROM e) n ON n.street_idx = m.street_idx
  JOIN e ON e.street_idx = m.street_idx AND e.ks = 1 + mod(m.i::bigint * 7919, n.ns)
  WHERE m.status = 'verified'
    AND (m.role = 'family' OR (m.role = 'volunteer' AND mod(m.i, 100) < 10)))
SELECT nextval(%(seq_relative)s) AS rel_id, c.member_id, c.user_id AS giver,
  c.account_id AS giver_account, c.street_idx, c.role, c.elder, c.elder_account, c.elder_phone,
  c.rel_status AS status,
  CASE WHEN c.rel_status = 'pending' THEN %(now)s - random() * interval '20 days'
       ELSE least(c.known_at + interval '2 days', %(now)s - interval '2 days') END AS at
FROM c;
UPDATE fill_eld e SET fam = r.giver
FROM (SELECT elder, min(giver) AS giver FROM fill_rel
      WHERE role = 'family' AND status = 'confirmed' GROUP BY elder) r
WHERE r.elder = e.user_id;
""",
    """
INSERT INTO accounts_relative (id, relation, proof, status, review_reason, reviewed_at,
  created_at, member_id, relative_id, reviewed_by_id, relative_phone)
SELECT r.rel_id, 'parent', '', r.status, '',
  CASE WHEN r.status = 'confirmed' THEN r.at + interval '1 day' END, r.at, r.member_id, r.elder,
  CASE WHEN r.status = 'confirmed' THEN s.staff END, coalesce(r.elder_phone, '')
FROM fill_rel r JOIN fill_street s ON s.idx = r.street_idx ORDER BY r.rel_id
""",
    # For each day: how many volunteers may serve (verified two weeks before), how many
    # elders may receive, how many are in hardship. The k-th of each pool is the k-th verified.
    """
CREATE TEMP TABLE fill_day AS
WITH days AS (
  SELECT d::date AS d FROM generate_series(%(t0_day)s::date - 70, %(today)s::date + 90,
                                           interval '1 day') d),
v AS (SELECT (reviewed_at """
    + LOCAL
    + """)::date + 15 AS d, count(*) AS n FROM fill_vol GROUP BY 1),
e AS (SELECT (reviewed_at """
    + LOCAL
    + """)::date + 1 AS d, count(*) AS n,
             count(*) FILTER (WHERE in_hardship) AS h FROM fill_eld GROUP BY 1)
SELECT days.d, floor(random() * 1000000)::bigint AS h,
  sum(coalesce(v.n, 0)) OVER w AS vol_n, sum(coalesce(e.n, 0)) OVER w AS eld_n,
  sum(coalesce(e.h, 0)) OVER w AS hard_n
FROM days LEFT JOIN v ON v.d = days.d LEFT JOIN e ON e.d = days.d
WINDOW w AS (ORDER BY days.d);
ANALYZE fill_day;
""",
]

PAST = "('done', 'expired_pub', 'expired_unpub', 'cancel_pub', 'cancel_unpub')"
PUBLISHED_SQL = "('" + "', '".join(PUBLISHED) + "')"

# Needs: every bucket gets its range of n; the coming days are denser near today.
SQL_NEEDS_0 = (
    """
CREATE TEMP TABLE fill_n0 AS
WITH spec AS (
  SELECT * FROM unnest(%(b_names)s::text[], %(b_lo)s::int[], %(b_hi)s::int[])
    AS s(bucket, lo, hi)),
raw AS (
  SELECT g.n, s.bucket, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
         random() AS r5, random() AS r6, random() AS r7, random() AS r8
  FROM spec s, generate_series(s.lo, s.hi) g(n))
SELECT raw.*,
  CASE WHEN bucket = 'signed_in' OR r1 >= 0.65 THEN 120 ELSE 60 END AS dur,
  CASE WHEN bucket = 'signed_in' THEN %(now)s - (10 + r3 * 50) * interval '1 minute'
    ELSE ((CASE WHEN bucket IN """
    + PAST
    + """ THEN %(t0_day)s::date + floor(r3 * %(past_days)s)::int
                WHEN bucket = 'signed_out' THEN %(today)s::date - 1 - floor(r3 * 2)::int
                WHEN bucket = 'open' THEN %(today)s::date + 1 + floor(r3 * r3 * 20)::int
                ELSE %(today)s::date + 1 + floor(r3 * 40)::int END)
          + make_interval(hours => 8 + floor(r4 * 10)::int, mins => 30 * floor(r5 * 2)::int))
         """
    + LOCAL
    + """ END AS starts_at
FROM raw
"""
)

SQL_NEEDS_1 = (
    """
CREATE TEMP TABLE fill_n1 AS
WITH c AS (
  SELECT n0.*,
    CASE WHEN bucket IN ('open', 'full', 'submitted', 'approved', 'draft')
         THEN %(now)s - interval '10 minutes' - r6 * interval '5 days'
         ELSE starts_at - (3 + r6 * 11) * interval '1 day' END AS created_at
  FROM fill_n0 n0)
SELECT c.*, d.eld_n, d.h AS day_h, c.r2 < 0.4 AND d.eld_n > 0 AS home
FROM c JOIN fill_day d ON d.d = (c.created_at """
    + LOCAL
    + """)::date
"""
)

# Who the need is for and where: a base's residents (round robin over the bases) or an
# elder at home, picked among those verified by then; every few home needs are elder 01's.
SQL_NEEDS_2 = """
CREATE TEMP TABLE fill_n2 AS
WITH x AS (
  SELECT n1.*, n1.home AND %(e01)s > 0 AND mod(n1.n, %(e01_every)s) = 0 AS e01,
    1 + mod(n1.n, %(n_bases)s) AS base_idx,
    CASE WHEN n1.home THEN 1 + mod(n1.n::bigint * 1000003 + n1.day_h, n1.eld_n) END AS eld_k
  FROM fill_n1 n1)
SELECT x.*, nextval(%(seq_servicerequest)s) AS req_id,
  CASE WHEN NOT x.home THEN b.street_idx WHEN x.e01 THEN %(e01_street)s ELSE e.street_idx END
    AS street_idx,
  CASE WHEN NOT x.home THEN NULL WHEN x.e01 THEN %(e01)s ELSE e.user_id END AS recipient,
  CASE WHEN x.e01 THEN %(e01_account)s ELSE e.account_id END AS recipient_account,
  CASE WHEN x.e01 THEN true ELSE coalesce(e.has_phone, false) END AS recipient_has_phone,
  CASE WHEN x.e01 THEN %(f01)s ELSE e.fam END AS fam,
  b.base_id, b.account_id AS base_account, b.staff AS base_staff, b.address AS base_address,
  b.lat AS base_lat, b.lng AS base_lng
FROM x JOIN fill_base b ON b.idx = x.base_idx
LEFT JOIN fill_eld e ON x.home AND NOT x.e01 AND e.k = x.eld_k
"""

SQL_NEEDS_3 = (
    """
CREATE TEMP TABLE fill_need AS
WITH a AS (
  SELECT n2.*, s.street_id, s.staff AS street_staff, s.advisor, s.name AS street_name,
    s.lat AS street_lat, s.lng AS street_lng,
    n2.bucket IN """
    + PUBLISHED_SQL
    + """ AS pub,
    n2.bucket IN """
    + PUBLISHED_SQL
    + """ OR n2.bucket = 'approved'
      OR (n2.bucket = 'expired_unpub' AND mod(n2.n, 2) = 0) AS approved,
    NOT (n2.bucket = 'draft' AND mod(n2.n, 2) = 1) AS submitted,
    least(n2.starts_at, %(now)s) - n2.created_at AS gap,
    CASE WHEN n2.home OR n2.bucket IN ('signed_in', 'signed_out') THEN 1
         WHEN n2.r7 < 0.75 THEN 1 WHEN n2.r7 < 0.93 THEN 2 ELSE 3 END AS places,
    1 + mod(n2.n::bigint * 7919, CASE WHEN n2.home THEN cardinality(%(ch_ids)s::bigint[])
                                      ELSE cardinality(%(ci_ids)s::bigint[]) END)::int AS cat
  FROM fill_n2 n2 JOIN fill_street s ON s.idx = n2.street_idx),
b AS (
  SELECT a.*,
    CASE WHEN submitted THEN created_at + interval '2 minutes' END AS sub_at,
    CASE WHEN approved THEN created_at + gap * (0.1 + 0.3 * r1) END AS sa_at,
    CASE WHEN bucket = 'done' AND places > 1 AND mod(n, 10) = 0 THEN places - 1
         WHEN bucket = 'done' THEN places ELSE 0 END AS settled
  FROM a),
c AS (
  SELECT b.*, CASE WHEN pub THEN sa_at + gap * (0.05 + 0.2 * r2) END AS pub_at FROM b)
SELECT c.*,
  CASE bucket WHEN 'done' THEN 'completed' WHEN 'expired_pub' THEN 'expired'
    WHEN 'expired_unpub' THEN 'expired' WHEN 'cancel_pub' THEN 'cancelled'
    WHEN 'cancel_unpub' THEN 'cancelled' WHEN 'submitted' THEN 'submitted'
    WHEN 'approved' THEN 'street_approved' WHEN 'draft' THEN 'draft' ELSE 'published' END
    AS status,
  CASE bucket WHEN 'done' THEN settled WHEN 'open' THEN floor(r8 * places)::int
    WHEN 'full' THEN places WHEN 'signed_in' THEN 1 WHEN 'signed_out' THEN 1 ELSE 0 END
    AS filled,
  CASE WHEN bucket IN ('open', 'full') THEN mod(n, 3) = 0 ELSE mod(n, 2) = 0 END
    AS auto_confirm,
  CASE bucket
    WHEN 'expired_pub' THEN starts_at + (dur + 15) * interval '1 minute'
    WHEN 'expired_unpub' THEN starts_at + interval '5 minutes'
    WHEN 'cancel_pub' THEN pub_at + (starts_at - pub_at) * (0.3 * r3) + interval '1 minute'
    WHEN 'cancel_unpub' THEN sub_at + (starts_at - sub_at) * (0.2 * r3) + interval '1 minute'
  END AS closed_at,
  CASE WHEN bucket = 'draft' AND submitted THEN '请写明具体服务楼层和联系人。' ELSE '' END
    AS rejection_reason,
  CASE WHEN pub THEN {code} ELSE '' END AS checkin_code,
  CASE WHEN home THEN (%(ch_ids)s::bigint[])[cat] ELSE (%(ci_ids)s::bigint[])[cat] END
    AS category_id,
  CASE WHEN home THEN (%(ch_names)s::text[])[cat] ELSE (%(ci_names)s::text[])[cat] END
    || '·' || (%(periods)s::text[])[1 + mod(n, cardinality(%(periods)s::text[]))] AS title,
  CASE WHEN home THEN street_name || '街道'
      || (%(communities)s::text[])[1 + mod(n * 31, cardinality(%(communities)s::text[]))]
      || ' ' || (1 + mod(n, 40)) || '号 ' || (101 + mod(n * 13, 600)) || '室'
    ELSE base_address END AS address,
  CASE WHEN NOT home THEN round(base_lat::numeric, 6)
       WHEN mod(n, 2) = 0 THEN round((street_lat + (r4 - 0.5) * 0.02)::numeric, 6) END AS lat,
  CASE WHEN NOT home THEN round(base_lng::numeric, 6)
       WHEN mod(n, 2) = 0 THEN round((street_lng + (r5 - 0.5) * 0.02)::numeric, 6) END AS lng,
  CASE WHEN NOT home AND mod(n, 2) = 0 THEN {name} ELSE '' END AS recipient_name,
  CASE WHEN home THEN advisor ELSE base_staff END AS posted_by,
  CASE WHEN home THEN recipient_account ELSE base_account END AS payer_account,
  CASE WHEN home THEN '上门陪伴老人聊天、读报，注意安全。'
       ELSE '在院内协助工作人员陪伴长者，注意安全。' END AS description
FROM c
"""
)

SQL_PLACES = """
CREATE TEMP TABLE fill_place AS
SELECT p.*, md5(%(key)s || 'hold:' || p.place_id)::uuid AS hold_id
FROM (
  SELECT nextval(%(seq_place)s) AS place_id, n.req_id, g.num,
    CASE WHEN n.bucket = 'done' THEN CASE WHEN g.num <= n.settled THEN 'settled' ELSE 'released' END
         WHEN n.bucket IN ('expired_pub', 'cancel_pub') THEN 'released'
         WHEN g.num <= n.filled THEN 'taken' ELSE 'open' END AS state
  FROM fill_need n CROSS JOIN LATERAL generate_series(1, n.places) g(num)
  WHERE n.pub) p
"""

# Each place's last volunteer, no-shows on expired needs, volunteers of cancelled needs,
# and earlier volunteers who withdrew or were declined (seq 0) before the last one came.
SQL_ASSIGNMENTS_0 = """
CREATE TEMP TABLE fill_a0 AS
SELECT p.place_id, p.req_id, p.num, 1 AS seq,
  CASE WHEN p.state = 'settled' THEN 'completed'
       WHEN n.bucket IN ('signed_in', 'signed_out') THEN n.bucket
       WHEN NOT n.auto_confirm AND p.num = 1 THEN 'grabbed' ELSE 'confirmed' END AS status
FROM fill_place p JOIN fill_need n USING (req_id) WHERE p.state IN ('settled', 'taken')
UNION ALL
SELECT p.place_id, p.req_id, p.num, 1, 'no_show'
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket = 'expired_pub' AND p.num = 1 AND mod(n.n, 5) < 2
UNION ALL
SELECT p.place_id, p.req_id, p.num, 1, 'cancelled'
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket = 'cancel_pub' AND p.num = 1 AND mod(n.n, 5) < 2
UNION ALL
SELECT p.place_id, p.req_id, p.num, 0,
  CASE WHEN mod(p.place_id, 40) = 0 THEN 'declined' ELSE 'cancelled' END
FROM fill_place p JOIN fill_need n USING (req_id)
WHERE n.bucket IN ('done', 'open', 'full') AND mod(p.place_id, 20) = 0
"""

SQL_ASSIGNMENTS = (
    """
CREATE TEMP TABLE fill_a1 AS
WITH a AS (
  SELECT a0.*, n.bucket, n.n, n.starts_at, n.dur, n.pub_at, n.closed_at AS need_closed,
    n.auto_confirm, n.home, n.base_staff, n.posted_by, n.recipient, n.recipient_has_phone,
    n.fam, n.advisor, n.lat, n.lng,
    (n.starts_at """
    + LOCAL
    + """)::date AS sdate,
    extract(hour FROM n.starts_at """
    + LOCAL
    + """) AS hour,
    least(n.starts_at, %(now)s - interval '1 minute') - n.pub_at AS win,
    random() AS q1, random() AS q2, random() AS q3, random() AS q4, random() AS q5,
    random() AS q6
  FROM fill_a0 a0 JOIN fill_need n USING (req_id)),
b AS (
  SELECT a.*, nextval(%(seq_assignment)s) AS aid,
    CASE WHEN bucket = 'cancel_pub' THEN pub_at + (need_closed - pub_at) * (0.2 + 0.6 * q1)
         WHEN seq = 0 THEN pub_at + win * (0.05 + 0.25 * q1)
         ELSE pub_at + win * (0.4 + 0.5 * q1) END AS gb,
    CASE WHEN status IN ('signed_in', 'signed_out', 'completed')
         THEN starts_at - q2 * interval '20 minutes' END AS si,
    CASE WHEN status IN ('signed_out', 'completed')
         THEN starts_at + (dur - 5 + q3 * 15) * interval '1 minute' END AS so,
    CASE WHEN NOT home THEN base_staff
         WHEN recipient_has_phone AND q6 < 0.6 THEN recipient
         WHEN fam IS NOT NULL AND q6 < 0.85 THEN fam ELSE advisor END AS completer
  FROM a)
SELECT b.*,
  CASE WHEN auto_confirm THEN gb
       WHEN status IN ('confirmed', 'signed_in', 'signed_out', 'completed')
       THEN gb + (least(starts_at, %(now)s) - gb) * (0.3 * q5) END AS cf,
  CASE WHEN status = 'completed' THEN so + q4 * interval '20 hours' END AS done_at,
  CASE WHEN status = 'completed' THEN
    CASE WHEN dur = 120 AND mod(place_id, 20) = 1 THEN 60 ELSE dur END END AS minutes,
  CASE WHEN status = 'completed' THEN completer END AS by_user,
  CASE WHEN status = 'completed' AND home AND completer <> recipient THEN recipient END
    AS behalf,
  CASE WHEN status = 'no_show' THEN starts_at + (dur + 5) * interval '1 minute'
       WHEN bucket = 'cancel_pub' AND status = 'cancelled' THEN need_closed
       WHEN status IN ('cancelled', 'declined') THEN pub_at + win * (0.32 + 0.06 * q5)
  END AS ended_at,
  CASE WHEN bucket = 'cancel_pub' AND status = 'cancelled' THEN '活动改期'
       WHEN status = 'cancelled' THEN '临时有事，无法前往。'
       WHEN status = 'declined' THEN '已安排其他志愿者。' ELSE '' END AS reason,
  CASE WHEN status = 'cancelled' AND bucket <> 'cancel_pub' THEN NULL
       WHEN status IN ('cancelled', 'declined') THEN posted_by END AS ender,
  CASE WHEN dur = 60 AND hour < 12 THEN 0 WHEN dur = 60 AND hour >= 13 THEN 1 END AS half
FROM b
"""
)

# Volunteer 01 serves a morning and an afternoon hour on each past day with such services
# (two hours: the daily cap), except days they already have service credits for.
SQL_VOLUNTEER_01 = """
CREATE TEMP TABLE fill_who AS
SELECT DISTINCT ON (sdate, half) aid, %(v01)s::bigint AS volunteer,
  %(v01_account)s::bigint AS vol_account,
  (SELECT id FROM accounts_member WHERE user_id = %(v01)s) AS vol_member
FROM fill_a1 f
WHERE %(v01)s > 0 AND status = 'completed' AND half IS NOT NULL
  AND sdate <= %(today)s::date - 3
  AND NOT EXISTS (SELECT 1 FROM ledger_dailycredit c
                  WHERE c.user_id = %(v01)s AND c.service_date = f.sdate)
ORDER BY sdate, half, aid
"""

# Everyone else: the k-th service of a day goes to a different volunteer of those verified
# by then (a stride through the pool), so nobody serves twice a day: no overlap, and at most
# one service's two hours on any day, within the daily cap.
SQL_DAY_RANKS = """
WITH k AS (
  SELECT aid, sdate, row_number() OVER (PARTITION BY sdate ORDER BY aid) - 1 AS k
  FROM fill_a1 a WHERE NOT EXISTS (SELECT 1 FROM fill_who w WHERE w.aid = a.aid))
"""
SQL_VOLUNTEERS_SHORT = (
    SQL_DAY_RANKS + "SELECT count(*) FROM k JOIN fill_day d ON d.d = k.sdate WHERE k.k >= d.vol_n"
)
SQL_VOLUNTEERS = (
    SQL_DAY_RANKS
    + """
INSERT INTO fill_who
SELECT k.aid, v.user_id, v.account_id, v.member_id
FROM k JOIN fill_day d ON d.d = k.sdate
JOIN fill_vol v ON v.k = 1 + mod(k.k * 1000003 + d.h, d.vol_n);
CREATE TEMP TABLE fill_asg AS SELECT a.*, w.volunteer, w.vol_account, w.vol_member
FROM fill_a1 a JOIN fill_who w USING (aid);
CREATE TEMP TABLE fill_close AS
SELECT req_id, max(done_at) AS at FROM fill_asg WHERE status = 'completed' GROUP BY req_id;
ANALYZE fill_asg;
"""
)

SQL_INSERT_NEEDS = """
INSERT INTO orders_servicerequest (id, mode, title, description, requirements, address,
  latitude, longitude, starts_at, duration_minutes, places, filled, recipient_name, payer_kind,
  auto_confirm, status, rejection_reason, checkin_code, created_at, submitted_at,
  street_approved_at, published_at, closed_at, base_id, category_id, posted_by_id,
  published_by_id, recipient_id, street_id, street_approved_by_id, submission_id,
  early_min_level)
SELECT req_id, CASE WHEN home THEN 'home' ELSE 'institution' END, title, description, '',
  address, lat, lng, starts_at, dur, places, filled, recipient_name,
  CASE WHEN home THEN 'member' ELSE 'base' END, auto_confirm, status, rejection_reason,
  checkin_code, created_at, sub_at, sa_at, pub_at, coalesce(closed_at, c.at),
  CASE WHEN home THEN NULL ELSE base_id END, category_id, posted_by,
  CASE WHEN pub THEN %(head)s END, recipient, street_id,
  CASE WHEN approved THEN street_staff END, NULL, 0
FROM fill_need LEFT JOIN fill_close c USING (req_id) ORDER BY req_id
"""

SQL_INSERT_PLACES = """
INSERT INTO orders_place (id, number, state, hold_transfer_id, request_id)
SELECT place_id, num, state, hold_id, req_id FROM fill_place ORDER BY place_id
"""

SQL_INSERT_ASSIGNMENTS = """
INSERT INTO orders_assignment (id, status, reservation_transfer_id, grabbed_at, confirmed_at,
  signed_in_at, signed_out_at, actual_minutes, confirmed_minutes, completed_at, ended_reason,
  missing_sign_out_at, completed_by_id, volunteer_id, place_id, request_id)
SELECT aid, status, md5(%(key)s || 'reserve:' || aid)::uuid, gb, cf, si, so,
  floor(extract(epoch FROM so - si) / 60)::int, minutes, done_at, reason, NULL, by_user,
  volunteer, place_id, req_id
FROM fill_asg ORDER BY aid
"""

# The money of each need, as the services move it: a hold per place at publication, posted
# for the confirmed minutes or voided; a reservation per volunteer, posted or voided; each
# payer's month of holds granted from the grant pool just before; each elder's initial grant.
SQL_SERVICE_MONEY = [
    """
INSERT INTO fill_tx
SELECT p.hold_id, n.payer_account, %(escrow)s, n.dur, 'pending', 'hold', NULL,
  'place:' || p.place_id, 'need:' || n.req_id, n.pub_at, %(head)s, NULL, NULL
FROM fill_place p JOIN fill_need n USING (req_id)
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'hold-post:' || p.place_id)::uuid, n.payer_account, %(escrow)s,
  a.minutes, 'post', 'hold', NULL, 'place:' || p.place_id, '', a.done_at, a.by_user, a.behalf,
  p.hold_id
FROM fill_place p JOIN fill_need n USING (req_id)
JOIN fill_asg a ON a.place_id = p.place_id AND a.status = 'completed'
WHERE p.state = 'settled'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'hold-void:' || p.place_id)::uuid, n.payer_account, %(escrow)s, n.dur,
  'void', 'hold', NULL, 'place:' || p.place_id, '', coalesce(n.closed_at, c.at),
  CASE WHEN n.bucket = 'cancel_pub' THEN n.posted_by END, NULL, p.hold_id
FROM fill_place p JOIN fill_need n USING (req_id) LEFT JOIN fill_close c USING (req_id)
WHERE p.state = 'released'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve:' || aid)::uuid, %(escrow)s, vol_account, dur, 'pending',
  'service', sdate, 'place:' || place_id, 'need:' || req_id, gb, volunteer, NULL, NULL
FROM fill_asg
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve-post:' || aid)::uuid, %(escrow)s, vol_account, minutes, 'post',
  'service', sdate, 'place:' || place_id, '', done_at, by_user, behalf,
  md5(%(key)s || 'reserve:' || aid)::uuid
FROM fill_asg WHERE status = 'completed'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'reserve-void:' || aid)::uuid, %(escrow)s, vol_account, dur, 'void',
  'service', sdate, 'place:' || place_id, left(reason, 200), ended_at,
  CASE WHEN status = 'cancelled' AND ender IS NULL THEN volunteer ELSE ender END, NULL,
  md5(%(key)s || 'reserve:' || aid)::uuid
FROM fill_asg WHERE status IN ('cancelled', 'declined', 'no_show')
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'fund:' || debit || ':' || month)::uuid, %(pool)s, debit, sum(amount),
  'single', 'grant', NULL, '',
  CASE WHEN debit = ANY(%(b_acct)s::bigint[]) THEN '服务基地时间币拨付 '
       ELSE '居家服务时间币补贴 ' END
    || month,
  min(created_at) - interval '1 hour', %(head)s, NULL, NULL
FROM (SELECT debit, amount, created_at, to_char(created_at """
    + LOCAL
    + """, 'YYYY-MM') AS month
      FROM fill_tx WHERE code = 'hold' AND kind = 'pending') h
GROUP BY debit, month
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'initial:' || user_id)::uuid, %(pool)s, account_id, %(initial)s,
  'single', 'grant', NULL, '', '初始发放', reviewed_at + interval '1 hour', %(head)s, NULL, NULL
FROM fill_eld WHERE %(initial)s > 0
""",
]

# Volunteers spend each month no more than that month's service income, at the month's end
# (so no balance ever goes below zero): whoever served over HEAVY_SERVED_HOURS gives most of
# it to the care pool, others now and then give an hour to the pool or to their parent
# (approved by the street, a few refused). Those with coins left and a parent have a gift
# waiting for their street, after everything else they did. Head office passes half of each
# month's donations to elders in hardship the next month, two hours each.
SQL_VOLUNTEER_MONEY = [
    """
CREATE TEMP TABLE fill_vm AS
WITH e AS (
  SELECT vol_account, volunteer, date_trunc('month', done_at """
    + LOCAL
    + """) AS month,
    sum(minutes) AS earned, max(done_at) AS last_at
  FROM fill_asg WHERE status = 'completed' GROUP BY 1, 2, 3)
SELECT e.*, sum(earned) OVER (PARTITION BY vol_account) AS total, random() AS r,
  greatest(last_at + interval '1 second',
           least((month + interval '1 month') """
    + LOCAL
    + """ - interval '2 hours',
                 %(now)s - interval '1 minute')) AS at,
  (month + interval '1 month') """
    + LOCAL
    + """ > %(now)s AS current
FROM e
""",
    """
CREATE TEMP TABLE fill_spend AS
WITH s AS (
  SELECT vm.*, r.rel_id, r.elder, r.elder_account, r.street_idx,
    CASE WHEN vm.total > %(heavy)s THEN 'donation'
         WHEN vm.earned >= 60 AND vm.r < 0.04 THEN 'donation'
         WHEN vm.earned >= 60 AND vm.r < 0.12 AND r.rel_id IS NOT NULL AND NOT vm.current
         THEN CASE WHEN vm.r < 0.112 THEN 'gift' ELSE 'gift_refused' END END AS what,
    CASE WHEN vm.total > %(heavy)s THEN floor(vm.earned * 0.9 / 60) * 60 ELSE 60 END AS amount
  FROM fill_vm vm
  LEFT JOIN fill_rel r ON r.giver_account = vm.vol_account AND r.status = 'confirmed')
SELECT s.*, md5(%(key)s || 'spend:' || vol_account || ':' || month)::uuid AS sid,
  CASE WHEN what <> 'donation'
       THEN least(at + random() * interval '2 days', %(now)s - interval '1 minute') END
    AS decided_at
FROM s WHERE what IS NOT NULL AND amount > 0
""",
    """
CREATE TEMP TABLE fill_pgift AS
WITH earned AS (
  SELECT vol_account, max(total) AS total, max(last_at) AS last_at FROM fill_vm GROUP BY 1),
spent AS (
  SELECT vol_account, sum(amount) FILTER (WHERE what IN ('donation', 'gift')) AS spent,
    max(greatest(at, decided_at)) AS last_spend
  FROM fill_spend GROUP BY 1),
c AS (
  SELECT e.vol_account, r.giver, r.rel_id, r.elder, r.elder_account, r.street_idx,
    e.total - coalesce(s.spent, 0) AS left_over,
    greatest(e.last_at, s.last_spend) AS last_act, random() AS q
  FROM earned e
  JOIN fill_rel r ON r.giver_account = e.vol_account AND r.status = 'confirmed'
  LEFT JOIN spent s USING (vol_account)),
ranked AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.street_idx = %(tianshan)s ORDER BY q) AS rk
  FROM c WHERE left_over >= 60)
SELECT ranked.*, md5(%(key)s || 'pending-gift:' || vol_account)::uuid AS sid,
  least(greatest(last_act + interval '1 minute', %(now)s - q * interval '45 days'),
        %(now)s - interval '1 minute') AS at
FROM ranked
WHERE rk <= CASE WHEN street_idx = %(tianshan)s THEN %(pending_gifts)s
                 ELSE %(pending_gifts)s / 2 END
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'donation:' || sid)::uuid, vol_account, %(dpool)s, amount, 'single',
  'donation', NULL, 'donation:pool', 'donation to pool', at, volunteer, NULL, NULL
FROM fill_spend WHERE what = 'donation'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'gift:' || sid)::uuid, vol_account, elder_account, amount, 'pending',
  'gift', NULL::date, 'gift:' || sid, 'parent', at, volunteer, elder, NULL::uuid
FROM fill_spend WHERE what IN ('gift', 'gift_refused')
UNION ALL
SELECT md5(%(key)s || 'gift-decided:' || f.sid)::uuid, f.vol_account, f.elder_account,
  f.amount, CASE WHEN f.what = 'gift' THEN 'post' ELSE 'void' END, 'gift', NULL,
  'gift:' || f.sid, CASE WHEN f.what = 'gift' THEN '' ELSE '请先与家属确认后再申请。' END,
  f.decided_at, s.staff, f.elder, md5(%(key)s || 'gift:' || f.sid)::uuid
FROM fill_spend f JOIN fill_street s ON s.idx = f.street_idx
WHERE f.what IN ('gift', 'gift_refused')
UNION ALL
SELECT md5(%(key)s || 'gift:' || sid)::uuid, vol_account, elder_account, 60, 'pending', 'gift',
  NULL, 'gift:' || sid, 'parent', at, giver, elder, NULL
FROM fill_pgift
""",
    """
INSERT INTO fill_tx
WITH d AS (
  SELECT date_trunc('month', at """
    + LOCAL
    + """) AS m, sum(amount) AS don
  FROM fill_spend WHERE what = 'donation' GROUP BY 1),
a AS (
  SELECT d.m, (d.m + interval '1 month 9 days' + random() * interval '10 hours') """
    + LOCAL
    + """ AS at,
    floor(d.don * 0.5 / 120)::int AS chunks
  FROM d),
b AS (
  SELECT a.*, day.hard_n FROM a JOIN fill_day day ON day.d = (a.at """
    + LOCAL
    + """)::date
  WHERE a.at < %(now)s - interval '1 hour'),
c AS (
  SELECT b.m, b.at, g.c, b.hard_n
  FROM b CROSS JOIN LATERAL generate_series(0, least(b.chunks, b.hard_n) - 1) g(c))
SELECT md5(%(key)s || 'allocation:' || c.m || ':' || c.c)::uuid, %(dpool)s, h.account_id, 120,
  'single', 'donation', NULL, 'pool-allocation', '爱心池分配：独居高龄老人',
  c.at + c.c * interval '1 minute', %(head)s, h.user_id, NULL
FROM c JOIN fill_hard h ON h.k = 1 + mod(c.c + extract(month FROM c.m)::int * 7, c.hard_n)
""",
]

# Elders use granted coins in the catalogue: a subsidy, the order, its collection (most),
# cancellation or expiry. Slots are (elder, past month) pairs, the elder verified by then.
SQL_SLOTS = (
    """
WITH months AS (
  SELECT date_trunc('month', %(now)s """
    + LOCAL
    + """) - g * interval '1 month' AS m
  FROM generate_series(1, %(years)s * 12) g)
"""
)
SQL_EXCHANGE_SLOTS = (
    SQL_SLOTS + "SELECT count(*) FROM fill_eld e JOIN months ON e.reviewed_at < months.m " + LOCAL
)
SQL_EXCHANGE_UNITS = (
    """
CREATE TEMP TABLE fill_xo AS
WITH slots AS ("""
    + SQL_SLOTS
    + """
  SELECT e.k, months.m, rep FROM fill_eld e
  JOIN months ON e.reviewed_at < months.m """
    + LOCAL
    + """
  CROSS JOIN generate_series(1, %(reps)s) rep
  ORDER BY random() LIMIT %(units)s),
closed AS (
  SELECT s.k, (s.m + random() * interval '20 days' + mod(s.rep - 1, 8) * interval '1 day') """
    + LOCAL
    + """
    AS grant_at FROM slots s),
waiting AS (
  SELECT 1 + floor(random() * (SELECT count(*) FROM fill_eld))::bigint AS k,
    %(now)s - interval '1 hour' - random() * interval '10 days' AS grant_at
  FROM generate_series(1, %(waiting)s)),
u AS (
  SELECT row_number() OVER () AS u, k, grant_at, waiting FROM (
    SELECT k, grant_at, false AS waiting FROM closed
    UNION ALL SELECT k, grant_at, true FROM waiting) x),
t AS (
  SELECT u.*, e.user_id, e.account_id, e.has_phone, e.street_idx,
    grant_at + CASE WHEN waiting THEN interval '30 minutes'
                     ELSE (0.5 + random() * 47.5) * interval '1 hour' END AS order_at, random() AS q
  FROM u JOIN fill_eld e ON e.k = u.k)
SELECT t.*, 1 + mod(t.u * 7, cardinality(%(it_ids)s::bigint[])) AS item,
  CASE WHEN waiting THEN 'waiting'
       WHEN mod(u, 25) = 0 THEN 'cancelled'
       WHEN mod(u, 25) = 1 AND order_at + interval '14 days' < %(now)s THEN 'expired'
       ELSE 'collected' END AS status,
  CASE WHEN waiting THEN NULL
       WHEN mod(u, 25) = 1 AND order_at + interval '14 days' < %(now)s
       THEN order_at + interval '14 days'
       ELSE least(order_at + q * interval '5 days', %(now)s - interval '1 minute') END
    AS close_at,
  NULL::text AS code
FROM t
"""
)

SQL_EXCHANGE_MONEY = [
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'subsidy:' || x.u)::uuid, %(pool)s, x.account_id,
  (%(it_price)s::int[])[x.item] * 60, 'single', 'grant', NULL::date, '', '积分超市兑换补贴',
  x.grant_at, %(head)s, NULL::bigint, NULL::uuid
FROM fill_xo x
UNION ALL
SELECT md5(%(key)s || 'xo-hold:' || x.u)::uuid, x.account_id, %(xacct)s,
  (%(it_price)s::int[])[x.item] * 60, 'pending', 'exchange', NULL::date,
  'exchange:' || md5(%(key)s || 'xo:' || x.u)::uuid, (%(it_names)s::text[])[x.item],
  x.order_at, CASE WHEN x.has_phone THEN x.user_id ELSE s.advisor END, x.user_id, NULL
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx
UNION ALL
SELECT md5(%(key)s || 'xo-close:' || x.u)::uuid, x.account_id, %(xacct)s,
  (%(it_price)s::int[])[x.item] * 60, CASE WHEN x.status = 'collected' THEN 'post' ELSE 'void' END,
  'exchange', NULL, 'exchange:' || md5(%(key)s || 'xo:' || x.u)::uuid, '', x.close_at,
  CASE x.status WHEN 'collected' THEN s.clerk WHEN 'cancelled' THEN x.user_id END,
  x.user_id, md5(%(key)s || 'xo-hold:' || x.u)::uuid
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx WHERE x.status <> 'waiting'
""",
    """
INSERT INTO fill_tx
SELECT md5(%(key)s || 'float:' || g)::uuid, %(pool)s, b.account_id, 600, 'single', 'grant',
  NULL, '', '服务基地备用时间币', %(now)s - g * interval '1 day', %(head)s, NULL, NULL
FROM generate_series(1, %(floats)s) g JOIN fill_base b ON b.idx = 1 + mod(g, %(n_bases)s)
""",
]

SQL_INSERT_TRANSFERS = """
INSERT INTO ledger_transfer (id, amount, kind, code, service_date, reference, memo, created_at,
  actor_id, credit_account_id, debit_account_id, on_behalf_of_id, pending_id, reverses_id)
SELECT id, amount, kind, code, service_date, reference, memo, created_at, actor, credit, debit,
  behalf, pending, NULL
FROM fill_tx ORDER BY created_at
"""

SQL_INSERT_GIFTS = """
INSERT INTO ledger_gift (id, relation, amount, status, transfer_id, resolution_id,
  review_reason, reviewed_at, created_at, giver_id, receiver_id, relative_id, reviewed_by_id,
  street_id)
SELECT f.sid, 'parent', f.amount, CASE WHEN f.what = 'gift' THEN 'posted' ELSE 'rejected' END,
  md5(%(key)s || 'gift:' || f.sid)::uuid, md5(%(key)s || 'gift-decided:' || f.sid)::uuid,
  CASE WHEN f.what = 'gift' THEN '' ELSE '请先与家属确认后再申请。' END, f.decided_at, f.at,
  f.volunteer, f.elder, f.rel_id, s.staff, s.street_id
FROM fill_spend f JOIN fill_street s ON s.idx = f.street_idx
WHERE f.what IN ('gift', 'gift_refused')
UNION ALL
SELECT g.sid, 'parent', 60, 'pending', md5(%(key)s || 'gift:' || g.sid)::uuid, NULL, '', NULL,
  g.at, g.giver, g.elder, g.rel_id, NULL, s.street_id
FROM fill_pgift g JOIN fill_street s ON s.idx = g.street_idx
"""

SQL_INSERT_EXCHANGE_ORDERS = """
INSERT INTO exchange_exchangeorder (id, price, code, status, transfer_id, resolution_id,
  created_at, expires_at, closed_at, closed_by_id, member_id, ordered_by_id, street_id,
  item_id, point_id)
SELECT md5(%(key)s || 'xo:' || x.u)::uuid, (%(it_price)s::int[])[x.item], x.code, x.status,
  md5(%(key)s || 'xo-hold:' || x.u)::uuid,
  CASE WHEN x.status <> 'waiting' THEN md5(%(key)s || 'xo-close:' || x.u)::uuid END,
  x.order_at, x.order_at + interval '14 days', x.close_at,
  CASE x.status WHEN 'collected' THEN s.clerk WHEN 'cancelled' THEN x.user_id END,
  x.user_id, CASE WHEN x.has_phone THEN x.user_id ELSE s.advisor END, s.street_id,
  (%(it_ids)s::bigint[])[x.item], s.point
FROM fill_xo x JOIN fill_street s ON s.idx = x.street_idx
"""

# A counter per volunteer and day, as the engine keeps it: posted service minutes plus
# those still reserved (a voided reservation leaves its counter at what remains).
SQL_DAILY_CREDITS = """
INSERT INTO ledger_dailycredit (user_id, service_date, minutes, "limit")
SELECT volunteer, sdate,
  sum(CASE WHEN status = 'completed' THEN minutes
           WHEN status IN ('grabbed', 'confirmed', 'signed_in', 'signed_out') THEN dur
           ELSE 0 END),
  %(daily_cap)s
FROM fill_asg GROUP BY volunteer, sdate ORDER BY volunteer, sdate
ON CONFLICT (user_id, service_date)
DO UPDATE SET minutes = ledger_dailycredit.minutes + EXCLUDED.minutes
"""

# The elder, their family or the advisor rates two in five home services.
SQL_EVALUATIONS = """
INSERT INTO orders_evaluation (rating, comment, signature, created_at, assignment_id,
  author_id, on_behalf_of_id)
SELECT CASE WHEN q < 0.7 THEN 5 WHEN q < 0.9 THEN 4 WHEN q < 0.97 THEN 3 WHEN q < 0.99 THEN 2
            ELSE 1 END,
  (%(comments)s::text[])[1 + mod(aid, cardinality(%(comments)s::text[]))], '',
  least(done_at + q * interval '2 days', %(now)s - interval '1 minute'), aid, author,
  CASE WHEN author <> recipient THEN recipient END
FROM (
  SELECT a.*, random() AS q,
    CASE WHEN fam IS NOT NULL AND mod(aid, 2) = 0 THEN fam
         WHEN recipient_has_phone THEN recipient ELSE advisor END AS author
  FROM fill_asg a WHERE status = 'completed' AND home AND mod(aid, 5) < 2) e
"""

SQL_SIGN_RECORDS = """
INSERT INTO orders_signrecord (kind, method, at, latitude, longitude, accuracy_m, actor_id,
  assignment_id)
SELECT 'in', CASE WHEN mod(aid, 3) = 0 THEN 'qr' ELSE 'code' END, si, lat, lng,
  CASE WHEN lat IS NOT NULL THEN 15 + mod(aid, 40)::int END, volunteer, aid
FROM fill_asg WHERE si IS NOT NULL
UNION ALL
SELECT 'out', 'code', so, lat, lng, CASE WHEN lat IS NOT NULL THEN 15 + mod(aid, 40)::int END,
  volunteer, aid
FROM fill_asg WHERE so IS NOT NULL
"""

SQL_ORDER_EVENTS = """
INSERT INTO orders_orderevent (action, note, at, actor_id, assignment_id, on_behalf_of_id,
  request_id)
SELECT 'posted', '', created_at, posted_by, NULL::bigint, recipient, req_id FROM fill_need
UNION ALL
SELECT 'rejected', rejection_reason, sub_at + (least(starts_at, %(now)s) - sub_at) * 0.1,
  street_staff, NULL, NULL, req_id FROM fill_need WHERE rejection_reason <> ''
UNION ALL
SELECT 'street_approved', '', sa_at, street_staff, NULL, NULL, req_id
FROM fill_need WHERE sa_at IS NOT NULL
UNION ALL
SELECT 'published', '', pub_at, %(head)s, NULL, NULL, req_id FROM fill_need WHERE pub
UNION ALL
SELECT status, '', coalesce(closed_at, c.at), CASE WHEN status = 'cancelled' THEN posted_by END,
  NULL, NULL, req_id
FROM fill_need LEFT JOIN fill_close c USING (req_id)
WHERE status IN ('completed', 'expired', 'cancelled')
UNION ALL
SELECT 'grabbed', '', gb, volunteer, aid, NULL, req_id FROM fill_asg
UNION ALL
SELECT 'completed', minutes::text, done_at, by_user, aid, behalf, req_id
FROM fill_asg WHERE status = 'completed'
UNION ALL
SELECT status, reason, ended_at,
  CASE WHEN status = 'cancelled' AND ender IS NULL THEN volunteer ELSE ender END, aid, NULL, req_id
FROM fill_asg WHERE status IN ('cancelled', 'declined', 'no_show')
"""

SQL_RECORDS = [
    """
INSERT INTO accounts_integrityrecord (kind, reference, note, occurred_at, member_id,
  recorded_by_id)
SELECT 'no_show', 'assignment:' || aid, '', ended_at, vol_member, NULL
FROM fill_asg WHERE status = 'no_show'
""",
    # Honour levels follow the hours served, dated when the books crossed each threshold.
    """
CREATE TEMP TABLE fill_served AS
SELECT a.user_id, t.created_at, t.id, t.amount
FROM ledger_transfer t JOIN ledger_account a ON a.id = t.credit_account_id
WHERE a.kind = 'member' AND t.code = 'service' AND t.kind IN ('single', 'post')
  AND a.user_id IN (SELECT DISTINCT volunteer FROM fill_asg WHERE status = 'completed');
INSERT INTO honour_honourstatus (user_id, level, minutes_served, updated_at)
SELECT user_id,
  (SELECT count(*) FROM unnest(%(thresholds)s::bigint[]) th WHERE served >= th), served, %(now)s
FROM (
  SELECT s.user_id, sum(s.amount) - coalesce(max(r.back), 0) AS served
  FROM fill_served s
  LEFT JOIN (
    SELECT a.user_id, sum(r.amount) AS back
    FROM ledger_transfer r JOIN ledger_transfer o ON o.id = r.reverses_id
    JOIN ledger_account a ON a.id = r.debit_account_id
    WHERE r.code = 'reversal' AND o.code = 'service' GROUP BY a.user_id) r USING (user_id)
  GROUP BY s.user_id) x
ON CONFLICT (user_id) DO UPDATE
SET level = EXCLUDED.level, minutes_served = EXCLUDED.minutes_served,
    updated_at = EXCLUDED.updated_at;
INSERT INTO honour_levelreached (level, reached_at, lost_at, user_id)
SELECT th.level, min(s.created_at), NULL, s.user_id
FROM (SELECT user_id, created_at,
        sum(amount) OVER (PARTITION BY user_id ORDER BY created_at, id) AS cum
      FROM fill_served) s
JOIN unnest(%(thresholds)s::bigint[]) WITH ORDINALITY th(minutes, level) ON s.cum >= th.minutes
JOIN honour_honourstatus h ON h.user_id = s.user_id AND h.level >= th.level
WHERE NOT EXISTS (SELECT 1 FROM honour_levelreached l
                  WHERE l.user_id = s.user_id AND l.level = th.level AND l.lost_at IS NULL)
GROUP BY s.user_id, th.level;
DROP TABLE fill_served;
""",
]

# Every account's totals, exactly its transfers' sums (open reservations: pending ones not
# yet posted or voided), in one statement; the CHECK constraints judge the result.
SQL_ACCOUNT_TOTALS = """
WITH open_pending AS (
  SELECT t.debit_account_id AS d, t.credit_account_id AS c, t.amount
  FROM ledger_transfer t
  WHERE t.kind = 'pending'
    AND NOT EXISTS (SELECT 1 FROM ledger_transfer r WHERE r.pending_id = t.id)),
posted AS (
  SELECT debit_account_id AS d, credit_account_id AS c, amount
  FROM ledger_transfer WHERE kind IN ('single', 'post')),
sums AS (
  SELECT acct, sum(pd) AS pd, sum(pc) AS pc, sum(qd) AS qd, sum(qc) AS qc FROM (
    SELECT d AS acct, amount AS pd, 0 AS pc, 0 AS qd, 0 AS qc FROM posted
    UNION ALL SELECT c, 0, amount, 0, 0 FROM posted
    UNION ALL SELECT d, 0, 0, amount, 0 FROM open_pending
    UNION ALL SELECT c, 0, 0, 0, amount FROM open_pending) x
  GROUP BY acct),
target AS (
  SELECT a.id, coalesce(s.pd, 0) AS pd, coalesce(s.pc, 0) AS pc, coalesce(s.qd, 0) AS qd,
    coalesce(s.qc, 0) AS qc
  FROM ledger_account a LEFT JOIN sums s ON s.acct = a.id)
UPDATE ledger_account a
SET posted_debits = t.pd, posted_credits = t.pc, pending_debits = t.qd, pending_credits = t.qc
FROM target t
WHERE a.id = t.id AND (a.posted_debits, a.posted_credits, a.pending_debits, a.pending_credits)
  IS DISTINCT FROM (t.pd, t.pc, t.qd, t.qc)
"""
