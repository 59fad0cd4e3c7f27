# Shared by the scripts that start a coordinator of their own (demo.sh, attack.sh).

# wait_for_url LOG: prints the URL a `xunxing-coordinator serve --port 0` writing to LOG listens
# on, once it does (up to 20 s); otherwise shows the log and exits 1.
wait_for_url() {
    local log=$1 url=""
    for _ in $(seq 100); do
        url=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -1 || true)
        [ -n "$url" ] && { echo "$url"; return 0; }
        sleep 0.2
    done
    cat "$log" >&2
    exit 1
}
