package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.grpc.auth.TokenTable;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * How a coordinator's gRPC port is protected and where it listens ({@code stagefarm coordinator},
 * {@code stagefarm up}). Without authentication it listens on loopback only, unless the operator
 * acknowledges an open port with {@code --allow-unauthenticated}. docs/security.md, "Clients".
 */
public final class ApiServerFlags {
  @Option(names = "--tls-cert", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TLS_CERT}",
      description = "Serve gRPC over TLS with this PEM certificate chain (with --tls-key). Also STAGEFARM_TLS_CERT.")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TLS_KEY}",
      description = "The PEM (PKCS#8) private key of --tls-cert. Also STAGEFARM_TLS_KEY.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TLS_CLIENT_CA}",
      description = "mTLS: accept client certificates issued by this PEM CA; the subject CN is the client's identity."
          + " Also STAGEFARM_TLS_CLIENT_CA.")
  Path tlsClientCa;

  @Option(names = "--tokens-file", paramLabel = "FILE", defaultValue = "${env:STAGEFARM_TOKENS_FILE}",
      description = "Accept bearer tokens listed (as SHA-256 hashes) in this file; format in docs/security.md."
          + " Also STAGEFARM_TOKENS_FILE.")
  Path tokensFile;

  @Option(names = "--admin-cn", paramLabel = "NAME",
      description = "A client-certificate CN with the admin role: sees and controls every build (repeatable).")
  List<String> adminCommonNames = new ArrayList<>();

  @Option(names = "--max-builds-per-client", paramLabel = "N",
      description = "Queued or running builds one client identity may have (default: 16).")
  int maxBuildsPerClient = ApiSecurity.DEFAULT_MAX_UNFINISHED_BUILDS;

  @Option(names = "--bind", paramLabel = "ADDRESS",
      description = "Listen on this address (default: 127.0.0.1 without authentication, every interface with it).")
  String bind;

  @Option(names = "--allow-unauthenticated",
      description = "Listen beyond loopback without authentication: anyone who reaches the port may submit, see,"
          + " cancel and export every build. Only on a network you trust.")
  boolean allowUnauthenticated;

  /** Where to listen and with what protection, checked for consistency. */
  public record Listener(InetSocketAddress address, ApiSecurity security) {
    public boolean loopbackOnly() {
      return address.getAddress().isLoopbackAddress();
    }

    /** A netty server builder with the TLS credentials, if any. */
    public ServerBuilder<?> serverBuilder() {
      try {
        return NettyServerBuilder.forAddress(address, security.serverCredentials());
      } catch (IOException | IllegalArgumentException e) {
        throw new UserError("cannot serve TLS: " + e.getMessage());
      }
    }

    /** One line for the start-up banner: how the port is protected. */
    public String describe() {
      List<String> parts = new ArrayList<>();
      parts.add(security.tls().isPresent() ? "TLS" : "plaintext");
      security.tokens().ifPresent(t -> parts.add(t.size() + " token(s)"));
      security.tls().flatMap(ApiSecurity.Tls::clientCa).ifPresent(ca -> parts.add("client certificates from " + ca));
      if (!security.authenticates()) {
        parts.add(loopbackOnly() ? "no authentication: loopback only" : "NO AUTHENTICATION (--allow-unauthenticated)");
      }
      parts.add("max " + security.maxUnfinishedBuildsPerClient() + " builds per client");
      return String.join(", ", parts);
    }
  }

  /** @throws UserError for flags that do not fit together or files that cannot be used */
  public Listener listener(int port) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new UserError("--tls-cert and --tls-key go together (the certificate chain and its private key)");
    }
    if (tlsClientCa != null && tlsCert == null) {
      throw new UserError("--tls-client-ca needs --tls-cert and --tls-key: client certificates are part of TLS");
    }
    if (!adminCommonNames.isEmpty() && tlsClientCa == null) {
      throw new UserError("--admin-cn names client-certificate identities: it needs --tls-client-ca");
    }
    if (maxBuildsPerClient < 1) {
      throw new UserError("--max-builds-per-client must be at least 1, not " + maxBuildsPerClient);
    }
    Optional<TokenTable> tokens = Optional.ofNullable(tokensFile).map(ApiServerFlags::loadTokens);
    Optional<ApiSecurity.Tls> tls = Optional.ofNullable(tlsCert)
        .map(cert -> new ApiSecurity.Tls(cert, tlsKey, Optional.ofNullable(tlsClientCa)));
    ApiSecurity security = new ApiSecurity(tls, tokens, Set.copyOf(adminCommonNames), maxBuildsPerClient);

    InetAddress address;
    if (bind == null) {
      address = security.authenticates() || allowUnauthenticated ? anyAddress() : InetAddress.getLoopbackAddress();
    } else {
      try {
        address = InetAddress.getByName(bind);
      } catch (UnknownHostException e) {
        throw new UserError("--bind " + bind + ": not an address of this host (" + e.getMessage() + ")");
      }
    }
    if (!address.isLoopbackAddress() && !security.authenticates() && !allowUnauthenticated) {
      throw new UserError("refusing to listen on " + address.getHostAddress() + " without authentication: configure"
          + " --tokens-file or --tls-client-ca (docs/security.md), or acknowledge an open port with"
          + " --allow-unauthenticated");
    }
    if (!address.isLoopbackAddress() && tokens.isPresent() && tls.isEmpty()) {
      throw new UserError("bearer tokens would cross the network in clear text: add --tls-cert and --tls-key, or"
          + " --bind 127.0.0.1 behind a TLS-terminating proxy");
    }
    return new Listener(new InetSocketAddress(address, port), security);
  }

  private static TokenTable loadTokens(Path file) {
    TokenTable table;
    try {
      table = TokenTable.load(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new UserError("the tokens file " + file + " does not exist");
    } catch (IOException | IllegalArgumentException e) {
      throw new UserError("cannot use the tokens file " + file + ": " + e.getMessage());
    }
    if (table.size() == 0) {
      throw new UserError("the tokens file " + file + " lists no tokens: no client could authenticate");
    }
    return table;
  }

  private static InetAddress anyAddress() {
    try {
      return InetAddress.getByName("0.0.0.0");
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
