report() { cat "$1"; }
