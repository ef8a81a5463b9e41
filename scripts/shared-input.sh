# Sourced by scripts that read data kept outside the repository (../shared beside the checkout):
# `optional_input WHAT PATH HOW` returns 0 when PATH exists; otherwise it prints one line saying
# what is skipped and how to run it and returns 1, or fails the script when SLUICE_REQUIRE_SHARED=1
# (set by .ci/run, so CI, which has ../shared, can never skip silently).
optional_input() {
    local what="$1" path="$2" how="$3"
    [ -e "$path" ] && return 0
    if [ "${SLUICE_REQUIRE_SHARED:-0}" = 1 ]; then
        echo "$what: $path not found and SLUICE_REQUIRE_SHARED=1; $how" >&2
        exit 1
    fi
    echo "$what: SKIPPED, $path not found; $how" >&2
    return 1
}
