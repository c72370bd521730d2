#!/bin/sh
# bench/upload-ceiling.sh URL BUCKET KEY DIR N: a client that does nothing
# but send, as a yardstick for bench/upload.sh. It uploads DIR/1 .. DIR/N (the archive,
# split in 8 MiB parts beforehand) as one multipart upload: curl, 4 parts at
# once, unsigned (moto does not check signatures), no hashing, no archiving.
# Nearly all the time it takes is the emulator's own (receiving the parts,
# and CompleteMultipartUpload copying 200 MiB around), which every client
# pays: (aws s3 cp's time) / (this time) shows how much room is left.
set -eu
url=$1 bucket=$2 key=$3 dir=$4 n=$5
base="$url/$bucket/$key"
id=$(curl -sS -f -X POST -H 'x-amz-checksum-algorithm: CRC32' "$base?uploads" |
	sed -n 's|.*<UploadId>\(.*\)</UploadId>.*|\1|p')
test -n "$id" || { echo "upload-ceiling: no upload id from $base?uploads" >&2; exit 1; }
seq 1 "$n" | xargs -P 4 -I{} \
	curl -sS -f -D "$dir/{}.headers" -o /dev/null -X PUT -T "$dir/{}" "$base?partNumber={}&uploadId=$id"
{
	echo "<CompleteMultipartUpload>"
	for i in $(seq 1 "$n"); do
		etag=$(tr -d '\r' <"$dir/$i.headers" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
		echo "<Part><PartNumber>$i</PartNumber><ETag>$etag</ETag></Part>"
	done
	echo "</CompleteMultipartUpload>"
} >"$dir/complete.xml"
curl -sS -f -o /dev/null -X POST -H "Content-Type: application/xml" --data-binary "@$dir/complete.xml" "$base?uploadId=$id"
