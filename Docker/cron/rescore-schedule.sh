#!/bin/sh
# The cron's work, for a container (Docker/compose.yaml, service "rescore"):
#   every CENTINELA_RESCORE_EVERY seconds (default 3600)  centinela rescore
#       scores every facility (scores decay without new reports), then links what arrived since
#       the last linking run;
#   once a day, at the first round at or after the hour CENTINELA_REBUILD_AT (UTC, 00-23, default
#       02)  centinela linking rebuild  decides every link and pattern afresh (so on the first
#       start after that hour too: a new installation is linked at once).
# Each run takes a PostgreSQL advisory lock, so a second replica or a manual run never works at
# the same time: a rescore that finds the lock held says so and exits 0, a rebuild exits 3.
# Failures are printed with their exit status and the schedule goes on (the next round retries).
set -u
every=${CENTINELA_RESCORE_EVERY:-3600}
rebuild_at=${CENTINELA_REBUILD_AT:-02}
case "$every" in '' | *[!0-9]*) echo "rescore-schedule: CENTINELA_RESCORE_EVERY must be a number of seconds, not '$every'" >&2; exit 2 ;; esac
if [ "$every" -lt 60 ]; then echo "rescore-schedule: CENTINELA_RESCORE_EVERY must be at least 60" >&2; exit 2; fi
case "$rebuild_at" in [01][0-9] | 2[0-3]) ;; *) echo "rescore-schedule: CENTINELA_REBUILD_AT must be an hour 00-23, not '$rebuild_at'" >&2; exit 2 ;; esac

trap 'exit 0' TERM INT
last_rebuild=""
while :; do
    today=$(date -u +%F)
    if [ "$(date -u +%H)" -ge "$rebuild_at" ] && [ "$last_rebuild" != "$today" ]; then
        centinela linking rebuild || echo "rescore-schedule: centinela linking rebuild exited $?" >&2
        last_rebuild=$today
    fi
    centinela rescore || echo "rescore-schedule: centinela rescore exited $?" >&2
    sleep "$every" &
    wait $!
done
