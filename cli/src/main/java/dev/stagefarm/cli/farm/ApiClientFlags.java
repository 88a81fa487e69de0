package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executor;
import picocli.CommandLine.Option;

/**
 * How a client proves itself to a remote coordinator and checks the coordinator: TLS (with the
 * system's trusted CAs or {@code --tls-ca}), a client certificate (mTLS), a bearer token. A token
 * is never sent without TLS, except to a coordinator on loopback. docs/security.md, "Clients".
 */
public final class ApiClientFlags {
  /** The environment variable that may hold the bearer token itself. */
  public static final String TOKEN_ENV = "STAGEFARM_TOKEN";

  @Option(names = "--tls", description = "Talk TLS to the coordinator, trusting the system's CAs (implied by --tls-ca).")
  boolean tls;

  @Option(names = "--tls-ca", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TLS_CA}",
      description = "Talk TLS to the coordinator, trusting the CA certificates in this PEM file. Also STAGEFARM_TLS_CA.")
  Path tlsCa;

  // no environment defaults: STAGEFARM_TLS_CERT/KEY are the coordinator's own certificate
  @Option(names = "--tls-cert", paramLabel = "FILE", description = "mTLS: this PEM client certificate (with --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "The PEM (PKCS#8) private key of --tls-cert.")
  Path tlsKey;

  @Option(names = "--tls-server-name", paramLabel = "NAME",
      description = "Check the coordinator's certificate for this name instead of the --coordinator host.")
  String tlsServerName;

  @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TOKEN_FILE}",
      description = "Send the bearer token in this file (else $STAGEFARM_TOKEN). Also STAGEFARM_TOKEN_FILE.")
  Path tokenFile;

  /** Plaintext with the bearer token in {@code file}: for the local farm on loopback ({@link LocalFarm}). */
  public static ApiClientFlags withTokenFile(Path file) {
    ApiClientFlags flags = new ApiClientFlags();
    flags.tokenFile = file;
    return flags;
  }

  /** What {@link RemoteFarm} needs to open a channel. */
  public record Settings(ChannelCredentials credentials, Optional<String> serverName, boolean tls) {}

  /**
   * @param host the coordinator's host: a token goes to a plaintext coordinator only on loopback
   * @throws UserError for flags that do not fit together or files that cannot be read
   */
  public Settings settings(String host) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new UserError("--tls-cert and --tls-key go together (the client certificate and its private key)");
    }
    boolean useTls = tls || tlsCa != null || tlsCert != null;
    Optional<String> token = token();
    if (token.isPresent() && !useTls && !isLoopback(host)) {
      throw dev.stagefarm.cli.ExitCodes.usage("refusing to send the token to " + host + " without TLS: pass --tls-ca FILE (or --tls"
          + " for a certificate from a public CA)");
    }
    ChannelCredentials transport = useTls ? tlsCredentials() : InsecureChannelCredentials.create();
    ChannelCredentials credentials = token
        .<ChannelCredentials>map(t -> CompositeChannelCredentials.create(transport, new BearerToken(t, !useTls)))
        .orElse(transport);
    return new Settings(credentials, Optional.ofNullable(tlsServerName), useTls);
  }

  /**
   * The bearer token as call credentials, for a channel to a coordinator in this JVM ({@link
   * InProcessFarm}): there is no TLS there, nor a certificate to present, so the token is the
   * caller's identity, checked by the coordinator's authenticator as on its network port.
   *
   * @throws UserError when no token is configured, or with TLS flags, which have no meaning in-process
   */
  public CallCredentials inProcessCredentials() {
    if (tls || tlsCa != null || tlsCert != null) {
      throw new UserError("TLS flags have no meaning for a coordinator in this process: it takes a bearer token");
    }
    return new BearerToken(token().orElseThrow(() -> new UserError(
        "a coordinator in this process is called with a bearer token: none is configured")), true);
  }

  /** Whether calls to {@code host} cannot be read on the way: TLS, or a loopback coordinator. */
  public boolean confidential(String host) {
    return tls || tlsCa != null || tlsCert != null || isLoopback(host);
  }

  private ChannelCredentials tlsCredentials() {
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    if (tlsCa != null) {
      try {
        builder.trustManager(tlsCa.toFile());
      } catch (IOException e) {
        throw new UserError("cannot read the CA certificates --tls-ca " + tlsCa + ": " + message(e));
      }
    }
    if (tlsCert != null) {
      try {
        builder.keyManager(tlsCert.toFile(), tlsKey.toFile());
      } catch (IOException e) {
        throw new UserError("cannot read the client certificate " + tlsCert + " or key " + tlsKey + ": " + message(e));
      }
    }
    return builder.build();
  }

  private Optional<String> token() {
    if (tokenFile != null) {
      String token;
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (NoSuchFileException e) {
        throw new UserError("the token file " + tokenFile + " does not exist");
      } catch (IOException e) {
        throw new UserError("cannot read the token file " + tokenFile + ": " + message(e));
      }
      if (token.isEmpty()) {
        throw new UserError("the token file " + tokenFile + " is empty");
      }
      return Optional.of(token);
    }
    return Optional.ofNullable(System.getenv(TOKEN_ENV)).map(String::strip).filter(t -> !t.isEmpty());
  }

  private static boolean isLoopback(String host) {
    if (host.equals("localhost")) {
      return true;
    }
    try {
      // literal addresses only: a name could resolve elsewhere later
      return (host.matches("[0-9.]+") || host.contains(":")) && InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String message(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** {@code authorization: Bearer …} on every call; refused on a channel without TLS unless allowed. */
  private static final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private final String token;
    private final boolean plaintextAllowed;

    BearerToken(String token, boolean plaintextAllowed) {
      this.token = token;
      this.plaintextAllowed = plaintextAllowed;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
      if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY && !plaintextAllowed) {
        applier.fail(Status.UNAUTHENTICATED.withDescription(
            "refusing to send the token to " + info.getAuthority() + " over a connection without TLS"));
        return;
      }
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token);
      applier.apply(headers);
    }
  }
}
