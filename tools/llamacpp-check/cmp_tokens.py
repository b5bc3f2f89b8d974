# cmp_tokens.py STRINGS.hex LLAMA.ids KVSERVE.ids FAMILY [SHOW]
# Prints "FAMILY: N/M identical" and the first SHOW mismatching strings (default 3) with both id lists.
import sys
hexs = [l.strip() for l in open(sys.argv[1], encoding='ascii')]
ref = [l.rstrip('\n') for l in open(sys.argv[2])]
ours = [l.rstrip('\n') for l in open(sys.argv[3])]
family = sys.argv[4]; show = int(sys.argv[5]) if len(sys.argv) > 5 else 3
if not (len(hexs) == len(ref) == len(ours)):
    sys.exit(f'{family}: line counts differ: strings {len(hexs)}, llama.cpp {len(ref)}, kvserve {len(ours)}')
bad = [i for i in range(len(hexs)) if ref[i] != ours[i]]
print(f'{family}: {len(hexs) - len(bad)}/{len(hexs)} identical')
for i in bad[:show]:
    s = bytes.fromhex(hexs[i]).decode('utf-8')
    print(f'  #{i} {s!r}\n    llama.cpp: [{ref[i]}]\n    kvserve:   [{ours[i]}]')
