package dev.stagefarm.cli.farm;

import dev.stagefarm.cli.UserError;
import dev.stagefarm.config.ConfigValues;
import dev.stagefarm.config.CoordinatorKeys;
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

/**
 * How a coordinator's gRPC port is protected and where it listens ({@code stagefarm coordinator},
 * {@code stagefarm up}; keys {@link CoordinatorKeys#API}). Without authentication it listens on loopback only, unless the operator
 * acknowledges an open port with {@code --allow-unauthenticated}. docs/security.md, "Clients".
 */
public final class ApiServerSettings {
  private final Path tlsCert;
  private final Path tlsKey;
  private final Path tlsClientCa;
  private final Path tokensFile;
  private final List<String> adminCommonNames;
  private final int maxBuildsPerClient;
  private final String bind;
  private final boolean allowUnauthenticated;

  private ApiServerSettings(ConfigValues v) {
    tlsCert = v.get(CoordinatorKeys.TLS_CERT);
    tlsKey = v.get(CoordinatorKeys.TLS_KEY);
    tlsClientCa = v.get(CoordinatorKeys.TLS_CLIENT_CA);
    tokensFile = v.get(CoordinatorKeys.TOKENS_FILE);
    adminCommonNames = v.getOrDefault(CoordinatorKeys.ADMIN_CN, List.of());
    maxBuildsPerClient = v.get(CoordinatorKeys.MAX_BUILDS_PER_CLIENT);
    bind = v.get(CoordinatorKeys.BIND);
    allowUnauthenticated = v.get(CoordinatorKeys.ALLOW_UNAUTHENTICATED);
  }

  /** The API keys of a coordinator's or {@code stagefarm up}'s settings ({@link CoordinatorKeys#API}). */
  public static ApiServerSettings of(ConfigValues values) {
    return new ApiServerSettings(values);
  }

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
    Optional<TokenTable> tokens = Optional.ofNullable(tokensFile).map(ApiServerSettings::loadTokens);
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
