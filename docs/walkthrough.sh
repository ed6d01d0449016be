#!/usr/bin/env bash
# A week of training evidence, a certificate, a scan and a revocation, with curl only.
# Run against a running service:   BASE=http://127.0.0.1:5000 docs/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-http://127.0.0.1:5000}
API=$BASE/api/v1
FLASK=".venv/bin/flask --app wsgi"
j() { python3 -c "import sys, json; d = json.load(sys.stdin); print(d$1)"; }
post() { local key=$1 path=$2 body=$3; curl -sS -X POST "$API$path" -H "Authorization: Bearer $key" \
           -H 'Content-Type: application/json' -d "$body"; }

# 1. The regulator's key, from the bootstrap (prints one JSON line last).
REG=$($FLASK bootstrap --name "郑州市应急管理局" | tail -1 | j "['api_key']")

# 2. Valid trial identity numbers and credit codes (random; they belong to no one).
mapfile -t S < <($FLASK sample-ids --count 3 | cut -d' ' -f2)
ID1=${S[0]} TRAINER_ID=${S[1]} BODY_CODE=${S[3]} CENTRE_CODE=${S[4]}

# 3. A training body and an exam centre, each accredited for welding, each with its own key.
BODY=$(post "$REG" /organizations "{\"name\":\"示例安全培训学校\",\"kind\":\"training_body\",\"credit_code\":\"$BODY_CODE\"}" | j "['id']")
CENTRE=$(post "$REG" /organizations "{\"name\":\"示例特种作业考试中心\",\"kind\":\"exam_centre\",\"credit_code\":\"$CENTRE_CODE\"}" | j "['id']")
for ORG in "$BODY" "$CENTRE"; do
  post "$REG" "/organizations/$ORG/accreditations" \
    '{"categories":["welding"],"valid_from":"2025-01-01","valid_until":"2028-12-31"}' > /dev/null
done
BODY_KEY=$(post "$REG" "/organizations/$BODY/api-keys" '{"holder":{"name":"培训科"}}' | j "['api_key']")
CENTRE_KEY=$(post "$REG" "/organizations/$CENTRE/api-keys" '{"holder":{"name":"考务科"}}' | j "['api_key']")

# 4. The body registers a trainer and a worker (the response shows only the masked number).
TRAINER=$(post "$BODY_KEY" /trainers "{\"name\":\"孙老师\",\"id_number\":\"$TRAINER_ID\"}" | j "['id']")
post "$BODY_KEY" /workers "{\"name\":\"王建国\",\"id_number\":\"$ID1\"}" | tee /tmp/az-worker.json; echo
WORKER=$(j "['id']" < /tmp/az-worker.json)

# 5. Welding needs 108 hours: 14 days of class (8 h a day, the last day 4 h), attendance each day.
START=$(python3 -c "import datetime as d; print((d.date.today() - d.timedelta(days=40)).isoformat())")
for i in $(seq 0 13); do
  DAY=$(python3 -c "import datetime as d; print((d.date.fromisoformat('$START') + d.timedelta(days=$i)).isoformat())")
  HOURS=$([ "$i" -lt 13 ] && echo 16 || echo 12)
  SESSION=$(post "$BODY_KEY" /sessions "{\"category\":\"welding\",\"kind\":\"initial\",\"starts_at\":\"${DAY}T08:00:00+08:00\",
    \"ends_at\":\"${DAY}T${HOURS}:00:00+08:00\",\"location\":\"实训楼201\",\"trainer_id\":\"$TRAINER\",\"capacity\":30}" | j "['id']")
  post "$BODY_KEY" "/sessions/$SESSION/attendance" "{\"worker_id\":\"$WORKER\",
    \"check_in\":\"${DAY}T08:00:00+08:00\",\"check_out\":\"${DAY}T${HOURS}:00:00+08:00\"}" > /dev/null
done

# 6. The exam centre (never the training body) records the exam: theory and practical, 80 to pass.
EXAM_DAY=$(python3 -c "import datetime as d; print((d.date.today() - d.timedelta(days=7)).isoformat())")
post "$CENTRE_KEY" /exams "{\"worker_id\":\"$WORKER\",\"category\":\"welding\",\"taken_at\":\"${EXAM_DAY}T09:00:00+08:00\",
  \"duration_minutes\":90,\"theory_score\":88,\"practical_score\":91,\"examiner\":\"李考评\"}"; echo

# 7. The body issues the certificate; the evidence is checked, the token signed, the QR made.
post "$BODY_KEY" /certificates "{\"worker_id\":\"$WORKER\",\"category\":\"welding\"}" > /tmp/az-cert.json
SERIAL=$(j "['serial']" < /tmp/az-cert.json)
QR=$(j "['qr_text']" < /tmp/az-cert.json)
echo "certificate $SERIAL, QR version $(j "['qr_version']" < /tmp/az-cert.json)"
curl -sS -o /tmp/az-card.pdf -H "Authorization: Bearer $BODY_KEY" "$API/certificates/$SERIAL/card.pdf"
curl -sS -o /tmp/az-qr.png -H "Authorization: Bearer $BODY_KEY" "$API/certificates/$SERIAL/qr.png"
echo "card: /tmp/az-card.pdf, QR image: /tmp/az-qr.png, page: $QR"

# 8. Anyone verifies what a scanner read; then the body revokes it and the verdict changes.
curl -sS -X POST "$API/verify" -H 'Content-Type: application/json' -d "{\"qr_text\":\"$QR\"}" | j "['result']"
post "$BODY_KEY" "/certificates/$SERIAL/revoke" '{"reason":"演示撤销"}' | j "['status']"
curl -sS -X POST "$API/verify" -H 'Content-Type: application/json' -d "{\"qr_text\":\"$QR\"}" | j "['result']"
