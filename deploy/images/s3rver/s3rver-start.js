'use strict';
// s3rver on 0.0.0.0:9000, objects under /data, with the farm's own key pair: s3rver ships one
// hard-coded dummy pair (S3RVER/S3RVER); it is revoked here, so only S3_ACCESS_KEY/S3_SECRET_KEY
// sign requests (AWS V2/V4 signatures, checked by s3rver).
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const access = process.env.S3_ACCESS_KEY;
const secret = process.env.S3_SECRET_KEY;
if (!access || !secret) {
  console.error('s3rver-start: set S3_ACCESS_KEY and S3_SECRET_KEY');
  process.exit(2);
}
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(access, secret);

const server = new S3rver({
  address: process.env.S3_ADDRESS || '0.0.0.0',
  port: Number(process.env.S3_PORT || 9000),
  directory: process.env.S3_DATA || '/data',
  // path-style only: by default s3rver takes any host name that is not an IP or localhost as a
  // bucket name (CNAME-style access), so the farm's requests to http://s3:9000/stagefarm went to a
  // bucket "s3" and creating "stagefarm" failed with 404 NoSuchBucket
  vhostBuckets: false,
  silent: true,
});
server.run().then(
  ({ address, port }) => console.log(`s3rver listening on ${address}:${port}`),
  (err) => {
    console.error(`s3rver-start: ${err.message}`);
    process.exit(1);
  });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close().then(() => process.exit(0)));
}
