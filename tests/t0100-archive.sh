#!/bin/sh
test_description='git train archive: the same entries as git archive, streamed'
. "$(dirname "$0")/test-lib.sh"

# Our tar.gz must hold byte for byte the tar git archive writes; and, to
# show a difference readably, the listings in both owner spellings and the
# extracted trees (symlinks not followed) must be identical.
compare_with_git() {
	rev=$1
	shift
	rm -rf cmp && mkdir -p cmp/git cmp/ours &&
	git archive --format=tar "$rev" >cmp/git.tar &&
	git train archive "$@" >cmp/ours.tgz &&
	gzip -t cmp/ours.tgz &&
	gunzip <cmp/ours.tgz >cmp/ours.tar &&
	cmp cmp/git.tar cmp/ours.tar &&
	tar tvf cmp/git.tar >cmp/git.list &&
	tar tvzf cmp/ours.tgz >cmp/ours.list 2>cmp/ours.err &&
	test_cmp cmp/git.list cmp/ours.list &&
	test_must_be_empty cmp/ours.err &&
	tar --numeric-owner -tvf cmp/git.tar >cmp/git.num &&
	tar --numeric-owner -tvzf cmp/ours.tgz >cmp/ours.num &&
	test_cmp cmp/git.num cmp/ours.num &&
	tar xf cmp/git.tar -C cmp/git &&
	tar xzf cmp/ours.tgz -C cmp/ours &&
	diff -r --no-dereference cmp/git cmp/ours
}

test_must_be_empty() {
	test -s "$1" || return 0
	echo >&2 "not empty: $1"
	cat >&2 "$1"
	return 1
}

long=$(printf 'a-long-directory-name-%s/' 1 2 3 4 5)
longname=$(printf 'x%.0s' $(seq 1 130)).txt

test_expect_success 'setup: a tree with everything git archive treats specially' '
	git init -q sub-origin &&
	(cd sub-origin && test_commit sub-file) &&
	printf "print(1)\n" >train.py &&
	printf "#!/bin/sh\necho run\n" >run.sh && chmod +x run.sh &&
	mkdir -p lib/deep && echo "inside" >lib/deep/data.txt &&
	ln -s lib/deep/data.txt inside-link &&
	ln -s ../../etc/passwd outside-link &&
	echo "with space" >"name with space.txt" &&
	echo "unicode" >"données-ü-日本.txt" &&
	echo "bad utf8" >"$(printf "latin1-\377\376.txt")" &&
	echo "long" >"$longname" &&
	mkdir -p "$long" && echo "nested" >"$long/$longname" &&
	mkdir -p secret/inner && echo "hidden" >secret/inner/key &&
	mkdir -p only-ignored && echo "gone" >only-ignored/x.tmp &&
	mkdir -p parent/cache && echo "gone" >parent/cache/y &&
	echo "ignored" >notes.tmp &&
	printf "id \$Format:%%H\$ %s\n" "\$Format:%h %an <%ae> %ad|%cI|%s|%d|%q\$" >version.txt &&
	cat >.gitattributes <<-\EOF &&
	*.tmp export-ignore
	secret export-ignore
	cache export-ignore
	version.txt export-subst
	EOF
	git add -A &&
	git -c protocol.file.allow=always submodule add -q ./sub-origin sub &&
	test_tick &&
	git commit -q -m "first commit" &&
	git tag v1 &&
	echo "changed" >>train.py &&
	rm inside-link &&
	test_tick &&
	git commit -q -a -m "second commit" &&
	git ls-tree -r HEAD >tree &&
	test_grep "^160000 commit .*	sub$" tree &&
	test_grep "^120000 blob .*	outside-link$" tree
'

test_expect_success 'HEAD: the listing and the contents equal git archive' '
	compare_with_git HEAD
'

test_expect_success '--rev HEAD~1 and a positional revision equal git archive' '
	compare_with_git HEAD~1 --rev HEAD~1 &&
	compare_with_git v1 v1 &&
	test_path_is_file cmp/ours/inside-link
'

test_expect_success 'modes, owners and mtime are git archive defaults' '
	git train archive >a.tgz &&
	tar tvzf a.tgz >list &&
	test_grep "^-rwxrwxr-x root/root .* run.sh$" list &&
	test_grep "^-rw-rw-r-- root/root .* train.py$" list &&
	test_grep "^drwxrwxr-x root/root .* lib/$" list &&
	tar --numeric-owner -tvzf a.tgz >num &&
	test_grep "^-rw-rw-r-- 0/0 .* train.py$" num &&
	tar --full-time -tvzf a.tgz >full &&
	test_grep " 2023-11-14 22:15:20 train.py$" full
'

test_expect_success 'symlinks are stored as symlinks, never followed' '
	rm -rf x && mkdir x && tar xzf a.tgz -C x &&
	test -h x/outside-link &&
	test "$(readlink x/outside-link)" = ../../etc/passwd &&
	test_grep "outside-link -> ../../etc/passwd" list
'

test_expect_success 'a submodule is an empty directory' '
	test_grep "^drwxrwxr-x root/root .* sub/$" list &&
	test_path_is_dir x/sub &&
	test -z "$(ls -A x/sub)"
'

test_expect_success 'long and non-UTF-8 names round-trip' '
	test_path_is_file "x/$longname" &&
	test_path_is_file "x/$long/$longname" &&
	test_path_is_file "x/$(printf "latin1-\377\376.txt")" &&
	test_path_is_file "x/données-ü-日本.txt" &&
	test_path_is_file "x/name with space.txt"
'

test_expect_success 'export-ignore leaves paths out, as git archive does' '
	test_grep ! "secret" list &&
	test_grep ! "\.tmp" list &&
	test_grep "only-ignored/$" list &&
	test_grep ! "parent" list
'

test_expect_success 'export-subst expands placeholders as git does' '
	git archive HEAD version.txt | tar xO >expect &&
	tar xzOf a.tgz version.txt >actual &&
	test_cmp expect actual &&
	test_grep "^id $(git rev-parse HEAD) " actual &&
	test_grep "|%q$" actual
'

test_expect_success 'attributes come from the archived commit, not the work tree or index' '
	echo "train.py export-ignore" >.gitattributes &&
	git add .gitattributes &&
	echo "run.sh export-ignore" >.gitattributes &&
	compare_with_git HEAD &&
	git reset -q --hard &&
	test_grep "train.py" cmp/ours.list &&
	test_grep "run.sh" cmp/ours.list &&
	test_grep ! "secret" cmp/ours.list
'

test_expect_success '$GIT_DIR/info/attributes applies, and wins' '
	mkdir -p .git/info &&
	printf "train.py export-ignore\nversion.txt -export-subst\n" >.git/info/attributes &&
	compare_with_git HEAD &&
	rm .git/info/attributes &&
	test_grep ! "train.py" cmp/ours.list &&
	test_grep "Format" cmp/ours/version.txt
'

test_expect_success 'tar.umask is honoured, from -c too' '
	git -c tar.umask=022 archive HEAD | tar tvf - >expect &&
	git -c tar.umask=022 train archive | tar tvzf - >actual &&
	test_cmp expect actual &&
	test_grep "^-rw-r--r-- .* train.py$" actual &&
	(umask 077 && git -c tar.umask=user archive HEAD | tar tvf - >expect &&
	 git -c tar.umask=user train archive | tar tvzf - >actual) &&
	test_cmp expect actual &&
	test_grep "^-rw------- .* train.py$" actual
'

test_expect_success 'the archive carries the commit id like git archive' '
	gunzip <a.tgz | git get-tar-commit-id >id &&
	git rev-parse HEAD >expect &&
	test_cmp expect id
'

test_expect_success '-o writes the same bytes, atomically; output is reproducible' '
	git train archive -o out.tgz &&
	cmp a.tgz out.tgz &&
	test_path_is_missing out.tgz.tmp* &&
	git train archive --output=out2.tgz HEAD &&
	cmp a.tgz out2.tgz
'

test_expect_success 'a bare repository works' '
	git clone -q --bare . bare.git &&
	(cd bare.git && compare_with_git HEAD && compare_with_git HEAD~1 HEAD~1)
'

test_expect_success '-h shows usage and exits 129; bad usage exits 129' '
	test_expect_code 129 git train archive -h >out &&
	test_grep "^usage: git train archive" out &&
	test_expect_code 129 git train archive --bogus 2>err &&
	test_grep "bogus" err &&
	test_expect_code 129 git train archive HEAD HEAD~1 2>err &&
	test_expect_code 129 git train archive --stash --rev HEAD 2>err &&
	test_grep "cannot be used together" err
'

test_expect_success 'outside a repository: clear message, exit 128' '
	norepo="$TRASH_DIRECTORY.norepo" &&
	rm -rf "$norepo" && mkdir "$norepo" &&
	(cd "$norepo" && test_expect_code 128 git train archive -o x.tgz) 2>err &&
	ls -A "$norepo" >left &&
	rm -rf "$norepo" &&
	test_grep "not a git repository" err &&
	test_must_be_empty left
'

test_expect_success 'unborn HEAD and a bad revision: clear message, exit 128' '
	git init -q empty &&
	(cd empty && test_expect_code 128 git train archive >out 2>err) &&
	test_grep "HEAD has no commit yet" empty/err &&
	test_must_be_empty empty/out &&
	test_expect_code 128 git train archive --rev nope >out 2>err &&
	test_grep "bad revision .nope." err
'

test_expect_success 'a missing blob names the path and the object; -o leaves no file' '
	git init -q corrupt &&
	(cd corrupt && mkdir dir && echo precious >dir/file.txt && echo ok >a.txt &&
	 git add . && git commit -q -m c) &&
	blob=$(git -C corrupt rev-parse HEAD:dir/file.txt) &&
	rm -f corrupt/.git/objects/$(echo $blob | cut -c1-2)/$(echo $blob | cut -c3-) &&
	(cd corrupt && test_expect_code 128 git train archive -o ../c.tgz) 2>err &&
	test_grep "dir/file.txt" err &&
	test_grep "$blob" err &&
	test_path_is_missing c.tgz &&
	test -z "$(ls | grep "c.tgz")" &&
	(cd corrupt && test_expect_code 128 git train archive >../c2.tgz) 2>err &&
	test_grep "$blob" err
'

test_expect_success '--stash archives the working tree without changing it' '
	echo "uncommitted" >>train.py &&
	git status --porcelain -uno >status.before &&
	git rev-parse HEAD >head.before &&
	git train archive --stash >s.tgz 2>err &&
	test_grep "snapshot" err &&
	tar xzOf s.tgz train.py >train.out &&
	test_grep "uncommitted" train.out &&
	git status --porcelain -uno >status.after &&
	test_cmp status.before status.after &&
	git rev-parse HEAD >head.after &&
	test_cmp head.before head.after &&
	test_must_fail git rev-parse -q --verify refs/stash &&
	git checkout train.py &&
	(cd bare.git && test_must_fail git train archive --stash >out 2>err) &&
	test_grep "error:" bare.git/err
'

# Streaming: the blob is much bigger than the memory limit, loose and packed.
test_expect_success 'a big file is streamed, loose and packed, in bounded memory' '
	git init -q big &&
	(cd big && head -c 128M /dev/zero >big.bin && echo s >small &&
	 git add . && git commit -q -m big &&
	 /usr/bin/time -f %M -o ../rss.loose git train archive -o ../big1.tgz &&
	 git gc -q && test -z "$(find .git/objects -type f -name "[0-9a-f]*" -path "*/objects/??/*")" &&
	 /usr/bin/time -f %M -o ../rss.packed git train archive -o ../big2.tgz) &&
	cmp big1.tgz big2.tgz &&
	tar tvzf big1.tgz >list &&
	test_grep " 134217728 .* big.bin$" list &&
	test "$(tar xzOf big1.tgz big.bin | wc -c)" = 134217728 &&
	echo "peak RSS: loose $(cat rss.loose) KiB, packed $(cat rss.packed) KiB" &&
	test "$(cat rss.loose)" -lt 65536 &&
	test "$(cat rss.packed)" -lt 65536
'

# Compression is chosen per 256 KiB of the tar: level 1 for what compresses,
# stored for what does not. Files of both kinds, in sizes that put the
# switches in the middle of files, in both directions.
test_expect_success 'text compresses, random data does not grow; one valid, reproducible stream' '
	git init -q mixed &&
	(cd mixed &&
	 seq 1 60000 | sed "s/.*/step &: loss = 0.&, lr = 3e-4, grad_norm = 1.&/" >a-log.txt &&
	 head -c 1000000 /dev/urandom >b-weights.bin &&
	 find "$SRCDIR/src" -name "*.c" -exec cat {} + >c-code.c &&
	 head -c 700000 /dev/urandom >d-weights.bin &&
	 seq 1 30000 | sed "s/.*/{\"epoch\": &, \"acc\": 0.&}/" >e-metrics.json &&
	 git add . && git commit -q -m mixed &&
	 compare_with_git HEAD &&
	 git train archive -o ../mixed1.tgz &&
	 git train archive -o ../mixed2.tgz) &&
	cmp mixed1.tgz mixed2.tgz &&
	random=1700000 &&
	text=$(cat mixed/*.txt mixed/*.c mixed/*.json | wc -c) &&
	size=$(wc -c <mixed1.tgz) &&
	echo "text $text, random $random, archive $size" &&
	test $size -lt $((random + text / 3)) &&
	test $size -lt $((random + random / 100 + text))
'

test_expect_success 'a text-heavy tree is much smaller archived, as before' '
	git init -q text &&
	(cd text &&
	 mkdir src && (cd "$SRCDIR/src" && find . -name "*.[ch]" | tar -cf - -T -) | tar -xf - -C src &&
	 seq 1 100000 | sed "s/.*/step &: loss = 0.&/" >train.log &&
	 git add . && git commit -q -m text &&
	 compare_with_git HEAD &&
	 git train archive -o ../text.tgz) &&
	tree=$(find text/src text/train.log -type f -exec cat {} + | wc -c) &&
	size=$(wc -c <text.tgz) &&
	echo "tree $tree, archive $size" &&
	test $((size * 3)) -lt $tree
'

# Attribute files are read by libgit2 only where one that applies mentions
# "export-": wherever they sit, whatever defines them, git archive decides.
test_expect_success 'export attributes deep in the tree, from macros and outside it, as git archive' '
	git init -q attrs &&
	(cd attrs &&
	 mkdir -p a/b a/c d/e &&
	 for f in a/b/x.txt a/b/y.txt a/b/k.txt a/c/z.txt a/c/w.txt d/e/v.log d/e/u.txt top.log; do
		echo "\$Format:%H\$ $f" >$f || return 1
	 done &&
	 printf "* text=auto\n" >.gitattributes &&
	 printf "x.txt export-ignore\ny.txt export-subst\n" >a/b/.gitattributes &&
	 printf "*.txt EXPORT-IGNORE\n" >d/e/.gitattributes &&
	 git add .gitattributes a d top.log && test_tick && git commit -q -m deep &&
	 compare_with_git HEAD &&
	 test_grep ! " a/b/x.txt$" cmp/ours.list &&
	 test_grep "^[0-9a-f]\{40\} a/b/y.txt" cmp/ours/a/b/y.txt &&
	 test_grep "Format" cmp/ours/a/b/k.txt &&
	 test_grep " d/e/u.txt$" cmp/ours.list &&
	 printf "[attr]drop export-ignore\n" >.gitattributes &&
	 printf "z.txt drop\n" >a/c/.gitattributes &&
	 git add .gitattributes a && test_tick && git commit -q -m macro &&
	 compare_with_git HEAD &&
	 test_grep ! " a/c/z.txt$" cmp/ours.list &&
	 test_grep " a/c/w.txt$" cmp/ours.list &&
	 mkdir -p "$XDG_CONFIG_HOME/git" &&
	 echo "*.log export-ignore" >"$XDG_CONFIG_HOME/git/attributes" &&
	 compare_with_git HEAD~1 HEAD~1 &&
	 rm "$XDG_CONFIG_HOME/git/attributes" &&
	 test_grep ! " top.log$" cmp/ours.list &&
	 echo "w.txt export-ignore" >../attrs-file &&
	 git config core.attributesFile "$TRASH_DIRECTORY/attrs-file" &&
	 compare_with_git HEAD~1 HEAD~1 &&
	 git config --unset core.attributesFile &&
	 test_grep ! " a/c/w.txt$" cmp/ours.list &&
	 test_grep " top.log$" cmp/ours.list &&
	 mkdir -p .git/info &&
	 echo "top.log export-ignore" >.git/info/attributes &&
	 compare_with_git HEAD~1 HEAD~1 &&
	 rm .git/info/attributes &&
	 test_grep ! " top.log$" cmp/ours.list &&
	 test_grep " a/c/w.txt$" cmp/ours.list)
'

# The archive's bytes must not depend on the threads: GIT_TRAIN_ARCHIVE_THREADS
# sets how many read objects and compress. Many files of many sizes, so that
# blobs are read ahead while others are written; text and random data, so
# that compressed and stored pieces alternate; blobs over 1 MiB (streamed, in
# their turn), symlinks, a submodule, export-ignore and export-subst.
test_expect_success 'the archive is the same whatever the number of threads, loose and packed' '
	git init -q many &&
	(cd many &&
	 awk "BEGIN {
		for (d = 1; d <= 24; d++) {
			system(\"mkdir -p d\" d \"/sub\");
			for (f = 1; f <= 50; f++) {
				fn = \"d\" d \"/f\" f \".txt\";
				for (i = 1; i <= d * f / 8 + 1; i++)
					print \"line \" i \" of \" fn >fn;
				close(fn);
			}
		}
	 }" &&
	 seq 1 300000 >d3/big.txt &&
	 head -c 1500000 /dev/urandom >d4/big.bin &&
	 head -c 300000 /dev/urandom >d5/random.bin &&
	 ln -s d1/f1.txt link-to-file && ln -s d2 link-to-dir &&
	 printf "*.tmp export-ignore\nversion.txt export-subst\n" >.gitattributes &&
	 printf "f1*.txt export-ignore\nsub export-ignore\n" >d6/.gitattributes &&
	 echo "gone" >d7/scratch.tmp &&
	 echo "commit \$Format:%H\$ \$Format:%s\$" >version.txt &&
	 git add -A &&
	 git update-index --add --cacheinfo 160000,$(git -C ../sub-origin rev-parse HEAD),modules/sub &&
	 test_tick && git commit -q -m many &&
	 test $(git ls-files | wc -l) -gt 1200 &&
	 compare_with_git HEAD &&
	 test_grep "^drwxrwxr-x .* modules/sub/$" cmp/ours.list &&
	 test_grep "link-to-dir -> d2" cmp/ours.list &&
	 test_grep ! "d6/f1" cmp/ours.list &&
	 for n in 1 2 3 8; do
		GIT_TRAIN_ARCHIVE_THREADS=$n git train archive -o ../many-loose-$n.tgz || return 1
	 done &&
	 git gc -q &&
	 for n in 1 2 3 8; do
		GIT_TRAIN_ARCHIVE_THREADS=$n git train archive -o ../many-packed-$n.tgz || return 1
	 done &&
	 git train archive -o ../many-default.tgz) &&
	for n in 2 3 8; do
		cmp many-loose-1.tgz many-loose-$n.tgz &&
		cmp many-loose-1.tgz many-packed-$n.tgz || return 1
	done &&
	cmp many-loose-1.tgz many-packed-1.tgz &&
	cmp many-loose-1.tgz many-default.tgz &&
	gzip -t many-loose-1.tgz
'

test_expect_success 'GIT_TRAIN_ARCHIVE_THREADS must be a number from 1 to 64' '
	for v in 0 x 65 -1 2x; do
		test_expect_code 128 env GIT_TRAIN_ARCHIVE_THREADS=$v git train archive -o bad.tgz 2>err &&
		test_grep "GIT_TRAIN_ARCHIVE_THREADS" err &&
		test_path_is_missing bad.tgz || return 1
	done &&
	GIT_TRAIN_ARCHIVE_THREADS= git train archive -o empty-is-default.tgz &&
	cmp a.tgz empty-is-default.tgz
'

test_expect_success '-o to something that is not a regular file writes into it, never over it' '
	git train archive -o regular.tgz &&
	mkfifo pipe &&
	{ cat pipe >from-pipe.tgz & } &&
	git train archive -o pipe &&
	wait &&
	test -p pipe &&
	cmp regular.tgz from-pipe.tgz &&
	mkdir adir &&
	test_expect_code 128 git train archive -o adir 2>err &&
	test_grep "is a directory" err
'

# What a checkout does to content on its way out, as git archive does it:
# eol/text/crlf with core.autocrlf and core.eol, ident, working-tree-encoding,
# filter drivers (a smudge command per file, %f quoted; a failing driver
# that is not required leaves the content as it is).
test_expect_success 'eol, ident, working-tree-encoding and smudge filters: as git archive' '
	git init -q conv &&
	(cd conv &&
	 printf "@echo off\necho one\r\necho two\n" >run.bat &&
	 printf "line\n" >"it'"'"'s a.bat" &&
	 printf "a\nb\n" >auto.txt &&
	 printf "keep\r\nmixed\n" >mixed.txt &&
	 printf "bin\0ary\n" >data.dat &&
	 printf "id \$Id\$ \$Id: old \$ \$Id: other vcs \$\n" >id.c &&
	 printf "\377\376c\000a\000f\000\351\000\n\000" >utf16.txt &&
	 printf "lower case\n" >shout.up &&
	 printf "named\n" >"named file.nm" &&
	 printf "as is\n" >kept.broken &&
	 printf "empty smudged\n" | head -c 0 >empty.up &&
	 seq 1 400 >big.bat &&
	 printf "%s\n" "*.bat eol=crlf" "*.txt text=auto" "*.dat eol=crlf" "id.c ident" \
		"utf16.txt working-tree-encoding=UTF-16LE-BOM" "*.up filter=up" "*.nm filter=nm" \
		"*.broken filter=broken" >.gitattributes &&
	 git config filter.up.smudge "tr a-z A-Z" &&
	 git config filter.nm.smudge "echo %f; cat" &&
	 git config filter.broken.smudge false &&
	 git add . && test_tick && git commit -q -m conv &&
	 compare_with_git HEAD &&
	 printf "@echo off\r\necho one\r\necho two\r\n" >expect && test_cmp expect cmp/ours/run.bat &&
	 test_grep "^id .Id: $(git rev-parse HEAD:id.c) . " cmp/ours/id.c &&
	 test_grep "^LOWER CASE" cmp/ours/shout.up &&
	 test_grep "^named file.nm$" "cmp/ours/named file.nm" &&
	 test_grep "^as is$" cmp/ours/kept.broken &&
	 test "$(git cat-file blob HEAD:utf16.txt)" = "café" && cmp utf16.txt cmp/ours/utf16.txt &&
	 for c in core.autocrlf=true core.autocrlf=input core.eol=crlf core.bigFileThreshold=1k; do
		git -c $c archive HEAD >cmp/git.tar &&
		git -c $c train archive | gunzip >cmp/ours.tar &&
		cmp cmp/git.tar cmp/ours.tar || { echo "differs with -c $c"; return 1; }
	 done &&
	 git -c core.autocrlf=true train archive | tar xzOf - auto.txt >auto &&
	 printf "a\r\nb\r\n" >expect && test_cmp expect auto) &&
	(cd many &&
	 git -c core.autocrlf=true archive HEAD >../many-git.tar &&
	 git -c core.autocrlf=true train archive | gunzip >../many-ours.tar) &&
	cmp many-git.tar many-ours.tar &&
	tar xOf many-ours.tar d1/f1.txt | od -c | grep -F "\r  \n"
'

test_expect_success 'a required filter that fails: clear error, exit 128, no archive' '
	(cd conv &&
	 echo "*.nd filter=nodriver" >>.gitattributes && echo x >x.nd &&
	 git add . && git commit -q -m nodriver &&
	 git config filter.broken.required true &&
	 test_expect_code 128 git train archive -o ../req.tgz HEAD~1 2>../err &&
	 test_expect_code 128 git train archive HEAD~1 >../req-out.tgz 2>../err2 &&
	 git config --unset filter.broken.required &&
	 git config filter.nodriver.required true &&
	 test_expect_code 128 git train archive -o ../req.tgz 2>../err3 &&
	 git config --unset filter.nodriver.required) &&
	test_path_is_missing req.tgz &&
	test_grep "cannot archive .kept.broken.: the smudge filter .broken. failed" err &&
	test_grep "filter.broken.required" err &&
	test_grep "smudge filter .broken. failed" err2 &&
	test_must_be_empty req-out.tgz &&
	test_grep "x.nd.: the filter .nodriver. is required, but neither filter.nodriver.process nor filter.nodriver.smudge is set" err3
'

# The long-running process protocol with a filter of our own: one process
# for the whole archive; "error" leaves that file as it is, "abort" every
# later one; content over one packet; as git archive does it.
test_expect_success PYTHON 'a filter process: one for the archive, error and abort as git archive' '
	cat >proc.py <<-\PY &&
	import sys
	inp, out = sys.stdin.buffer, sys.stdout.buffer
	log = open(sys.argv[1], "a")
	log.write("start\n")
	def read_pkt():
	    h = inp.read(4)
	    if len(h) < 4:
	        sys.exit(0)
	    n = int(h, 16)
	    return None if n == 0 else inp.read(n - 4)
	def write_pkt(data):
	    out.write(b"%04x" % (len(data) + 4) + data)
	def flush():
	    out.write(b"0000")
	    out.flush()
	def read_list():
	    items = []
	    while True:
	        p = read_pkt()
	        if p is None:
	            return items
	        items.append(p.rstrip(b"\n").decode())
	assert read_list() == ["git-filter-client", "version=2"]
	write_pkt(b"git-filter-server\n"); write_pkt(b"version=2\n"); flush()
	assert "capability=smudge" in read_list()
	write_pkt(b"capability=smudge\n"); flush()
	while True:
	    hdr = dict(x.split("=", 1) for x in read_list())
	    content = b""
	    while True:
	        p = read_pkt()
	        if p is None:
	            break
	        content += p
	    path = hdr["pathname"]
	    log.write(path + "\n")
	    log.flush()
	    if path.endswith((".err", ".abort")):
	        write_pkt(b"status=" + path.split(".")[-1].encode().replace(b"err", b"error") + b"\n")
	        flush()
	        continue
	    write_pkt(b"status=success\n"); flush()
	    data = content.upper()
	    for i in range(0, len(data), 65516):
	        write_pkt(data[i:i + 65516])
	    flush()
	    flush()
	PY
	git init -q proc &&
	(cd proc &&
	 for f in a.p b.err c.p d.abort e.p; do echo "content of $f" >$f || return 1; done &&
	 seq 1 40000 | sed "s/^/line /" >big.p &&
	 printf "%s\n" "*.p filter=p" "*.err filter=p" "*.abort filter=p" >.gitattributes &&
	 git add . && test_tick && git commit -q -m proc &&
	 git -c filter.p.process="$TEST_PYTHON $TRASH_DIRECTORY/proc.py $TRASH_DIRECTORY/log.git" \
		archive HEAD >../proc-git.tar &&
	 git -c filter.p.process="$TEST_PYTHON $TRASH_DIRECTORY/proc.py $TRASH_DIRECTORY/log.ours" \
		train archive -o ../proc.tgz &&
	 test_expect_code 128 git -c filter.p.required=true \
		-c filter.p.process="$TEST_PYTHON $TRASH_DIRECTORY/proc.py /dev/null" \
		train archive -o ../proc-req.tgz 2>../err) &&
	gunzip <proc.tgz >proc-ours.tar &&
	cmp proc-git.tar proc-ours.tar &&
	tar xOf proc-ours.tar a.p b.err e.p >out &&
	printf "CONTENT OF A.P\ncontent of b.err\ncontent of e.p\n" >expect &&
	test_cmp expect out &&
	tar xOf proc-ours.tar big.p | tail -1 >out &&
	echo "LINE 40000" >expect && test_cmp expect out &&
	printf "start\na.p\nb.err\nbig.p\nc.p\nd.abort\n" >expect &&
	test_cmp expect log.ours &&
	test_path_is_missing proc-req.tgz &&
	test_grep "cannot archive .b.err.: the smudge filter .p. failed" err
'

# Git LFS: `git lfs install --local`, objects in .git/lfs, no server. git
# archive runs the same smudge (git-lfs filter-process).
test_expect_success LFS 'Git LFS: the content, not the pointer, byte for byte as git archive' '
	git init -q lfs &&
	(cd lfs &&
	 git lfs install --local >/dev/null &&
	 git lfs track "*.pt" "data/**" >/dev/null &&
	 mkdir data &&
	 head -c 3000000 /dev/urandom >model.pt &&
	 seq 1 20000 >data/train.csv &&
	 printf "tiny\n" >tiny.pt &&
	 : >empty.pt &&
	 printf "print(open(\"data/train.csv\").readline().strip())\n" >train.py &&
	 git add . && test_tick && git commit -q -m lfs &&
	 git cat-file blob HEAD:model.pt >pointer && test_grep "^oid sha256:" pointer &&
	 compare_with_git HEAD &&
	 cmp model.pt cmp/ours/model.pt &&
	 cmp data/train.csv cmp/ours/data/train.csv &&
	 cmp tiny.pt cmp/ours/tiny.pt &&
	 git train archive -o ../lfs1.tgz &&
	 git train archive -o ../lfs2.tgz &&
	 git train local >../local.out 2>&1) &&
	cmp lfs1.tgz lfs2.tgz &&
	test_grep "^1$" local.out &&
	test_grep ! "version https://git-lfs" local.out
'

test_expect_success LFS 'Git LFS: a missing object fails the archive, naming the file' '
	cp -R lfs lfs-missing &&
	(cd lfs-missing && rm -rf .git/lfs/objects .git/train .git/refs/notes &&
	 test_expect_code 128 git train archive -o ../missing.tgz 2>../err &&
	 test_expect_code 128 git train local 2>../err2 &&
	 test_path_is_missing .git/train/runs &&
	 test_must_fail git notes --ref=train list HEAD) &&
	test_path_is_missing missing.tgz &&
	test_grep "cannot archive .*: the smudge filter .lfs. failed" err &&
	test_grep "git lfs fetch" err &&
	test_grep "cannot archive .data/train.csv.: its Git LFS object (sha256 [0-9a-f]\{12\}) is not in this repository" err2 &&
	test_grep "hint: get the objects of the commit with: git lfs fetch" err2
'

# No git-lfs on PATH: git train archive, local and a launch all stop before
# doing anything, saying how to install it.
test_expect_success LFS 'a repository that uses LFS, without git-lfs: fails before anything, says how to install it' '
	mkdir -p nolfs &&
	ln -s "$(command -v git)" nolfs/git &&
	ln -s "$GIT_TRAIN_BUILD_DIR/git-train" nolfs/git-train &&
	git=$(command -v git) &&
	(cd lfs &&
	 ls .git/train/runs >../runs.before &&
	 test_expect_code 128 env PATH="$TRASH_DIRECTORY/nolfs" "$git" train archive -o ../no.tgz 2>../err1 &&
	 test_expect_code 128 env PATH="$TRASH_DIRECTORY/nolfs" "$git" train local 2>../err2 &&
	 test_must_fail env PATH="$TRASH_DIRECTORY/nolfs" "$git" train t3.micro 2>../err3 &&
	 ls .git/train/runs >../runs.after &&
	 test_expect_code 128 git -c filter.lfs.process= -c filter.lfs.smudge= \
		train archive -o ../no.tgz 2>../err4) &&
	test_path_is_missing no.tgz &&
	test_cmp runs.before runs.after &&
	for e in err1 err2 err3; do
		test_grep "error: .data/train.csv. is stored with Git LFS (filter=lfs), but git-lfs is not installed" $e &&
		test_grep "hint: install Git LFS .*apt-get install git-lfs.*then run: git lfs install" $e || return 1
	done &&
	test_grep ! "instance\|upload" err3 &&
	test_grep "Git LFS is not set up" err4
'

# A large LFS object goes through a temporary file, not memory.
test_expect_success LFS,UNSANITIZED 'a 64 MB LFS object is archived in bounded memory (half its size)' '
	git init -q lfs-big &&
	(cd lfs-big &&
	 git lfs install --local >/dev/null && git lfs track "*.bin" >/dev/null &&
	 head -c 64M /dev/zero >weights.bin &&
	 git add . && git commit -q -m big &&
	 /usr/bin/time -f %M -o ../rss.lfs git train archive -o ../lfs-big.tgz) &&
	tar tvzf lfs-big.tgz >list &&
	test_grep " 67108864 .* weights.bin$" list &&
	echo "peak RSS: $(cat rss.lfs) KiB" &&
	test "$(cat rss.lfs)" -lt 32768
'

test_done
