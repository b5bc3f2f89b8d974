# Sourced by bin/kvserve and .ci/run: find_jdk prints the home of a JDK 25 or newer.
# Candidates, in order: JAVA_HOME, the JDKs under /usr/lib/jvm and /opt/java, the `java` on PATH.
# Reads each JDK's `release` file rather than starting a JVM per candidate.

jdk_major() { # JDK_HOME -> major version, empty if unknown
  local v
  v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  echo "$v"
}

find_jdk() {
  local c v on_path=""
  if command -v java >/dev/null 2>&1; then
    on_path=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  fi
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* "$on_path"; do
    [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
    v=$(jdk_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
