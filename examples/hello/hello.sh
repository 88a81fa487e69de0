#!/busybox sh
# run by the static busybox binary shipped in the image
exec /busybox cat /greeting.txt
