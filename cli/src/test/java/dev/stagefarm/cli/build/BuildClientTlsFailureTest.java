package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.net.ConnectException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** Which UNAVAILABLE answers the client gives up on at once instead of retrying them as a take-over. */
class BuildClientTlsFailureTest {
  @Test
  void anUntrustedCertificateOrAMissingClientCertificateIsNotRetried() {
    SSLHandshakeException untrusted = new SSLHandshakeException("PKIX path building failed");
    untrusted.initCause(new CertificateException("unable to find valid certification path"));
    assertThat(BuildClient.untrustedPeer(Status.UNAVAILABLE.withDescription("ssl exception").withCause(
        new RuntimeException("wrapped", untrusted)))).isTrue();
    assertThat(BuildClient.untrustedPeer(Status.UNAVAILABLE.withCause(
        new SSLHandshakeException("Received fatal alert: CERTIFICATE_REQUIRED")))).isTrue();
  }

  @Test
  void aRefusedConnectionOrAHandshakeCutShortIsRetried() {
    // a coordinator restarting or failing over: what the retries are for
    assertThat(BuildClient.untrustedPeer(Status.UNAVAILABLE.withCause(new ConnectException("Connection refused"))))
        .isFalse();
    assertThat(BuildClient.untrustedPeer(Status.UNAVAILABLE.withCause(
        new SSLHandshakeException("Remote host terminated the handshake")))).isFalse();
    assertThat(BuildClient.untrustedPeer(Status.UNAVAILABLE.withDescription("Network closed for unknown reason")))
        .isFalse();
  }
}
