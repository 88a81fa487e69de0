package dev.stagefarm.coordinator.grpc.auth;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * How the BuildService is protected: TLS (optionally requiring client certificates from a CA),
 * bearer tokens, which certificate identities are admins, and how many unfinished builds one
 * identity may have. docs/security.md, "Clients".
 *
 * @param adminCommonNames client-certificate subject CNs that get the admin role (tokens carry
 *     their role in the token file)
 */
public record ApiSecurity(
    Optional<Tls> tls, Optional<TokenTable> tokens, Set<String> adminCommonNames, int maxUnfinishedBuildsPerClient) {

  /** The default of {@code --max-builds-per-client}. */
  public static final int DEFAULT_MAX_UNFINISHED_BUILDS = 16;

  /**
   * PEM files: the server's certificate chain and PKCS#8 private key; with {@code clientCa}, client
   * certificates must chain to it (mTLS).
   */
  public record Tls(Path certChain, Path privateKey, Optional<Path> clientCa) {}

  public ApiSecurity {
    adminCommonNames = Set.copyOf(adminCommonNames);
    if (maxUnfinishedBuildsPerClient < 1) {
      throw new IllegalArgumentException("the limit of unfinished builds per client must be at least 1, not "
          + maxUnfinishedBuildsPerClient);
    }
  }

  /** No TLS, no authentication: every caller is {@link Caller#ANONYMOUS} (loopback farms). */
  public static ApiSecurity open() {
    return new ApiSecurity(Optional.empty(), Optional.empty(), Set.of(), DEFAULT_MAX_UNFINISHED_BUILDS);
  }

  public ApiSecurity withMaxUnfinishedBuildsPerClient(int max) {
    return new ApiSecurity(tls, tokens, adminCommonNames, max);
  }

  /** Whether callers must prove who they are (a token table or a client CA is configured). */
  public boolean authenticates() {
    return tokens.isPresent() || clientCertificates();
  }

  boolean clientCertificates() {
    return tls.flatMap(Tls::clientCa).isPresent();
  }

  /**
   * The transport credentials for the server builder. With a client CA a client certificate is
   * optional in the handshake (a token client has none, nor has a health probe) but checked when
   * one is offered; {@link Authenticator} requires a certificate or a token on every call except
   * the health service's.
   *
   * @throws IOException naming the certificate or key file that cannot be read
   */
  public ServerCredentials serverCredentials() throws IOException {
    if (tls.isEmpty()) {
      return InsecureServerCredentials.create();
    }
    Tls t = tls.get();
    TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder();
    try {
      builder.keyManager(t.certChain().toFile(), t.privateKey().toFile());
    } catch (IOException e) {
      throw new IOException("cannot read the TLS certificate " + t.certChain() + " or key " + t.privateKey() + ": "
          + e.getMessage(), e);
    }
    if (t.clientCa().isPresent()) {
      try {
        builder.trustManager(t.clientCa().get().toFile());
      } catch (IOException e) {
        throw new IOException("cannot read the client CA " + t.clientCa().get() + ": " + e.getMessage(), e);
      }
      builder.clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
    }
    return builder.build();
  }

  /** The interceptor that authenticates each call (install it on every service). */
  public ServerInterceptor authenticator() {
    return new Authenticator(this);
  }
}
