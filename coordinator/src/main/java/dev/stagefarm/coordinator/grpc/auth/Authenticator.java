package dev.stagefarm.coordinator.grpc.auth;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthGrpc;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Establishes the {@link Caller} of every call before the service sees it: from a bearer token
 * ({@code authorization: Bearer …}) or from a verified client certificate's subject CN. A call
 * without valid credentials is closed with {@code UNAUTHENTICATED} saying what is missing. The
 * standard health service ({@code grpc.health.v1.Health}: Check, Watch, List) answers anyone, so
 * that a probe (Kubernetes, grpc_health_probe) needs no token or certificate: it tells only
 * whether this coordinator serves (docs/security.md, "Health probes").
 */
final class Authenticator implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(Authenticator.class);
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "Bearer ";

  private final ApiSecurity security;

  Authenticator(ApiSecurity security) {
    this.security = security;
  }

  private static final class Refused extends Exception {
    Refused(String message) {
      super(message, null, false, false);
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (HealthGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers); // no caller: the health service asks for none
    }
    Caller caller;
    try {
      caller = authenticate(call, headers);
    } catch (Refused e) {
      log.info("refused {} from {}: {}", call.getMethodDescriptor().getFullMethodName(),
          call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), e.getMessage());
      call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), call, headers, next);
  }

  private Caller authenticate(ServerCall<?, ?> call, Metadata headers) throws Refused {
    if (!security.authenticates()) {
      return Caller.ANONYMOUS;
    }
    String authorization = headers.get(AUTHORIZATION);
    if (authorization != null) {
      // a client that sends a token means that token: a wrong one is refused even with a certificate
      if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
        throw new Refused("the authorization header is not a bearer token");
      }
      if (security.tokens().isEmpty()) {
        throw new Refused("this coordinator takes no tokens: authenticate with a client certificate");
      }
      return switch (security.tokens().get().check(authorization.substring(BEARER.length()).strip())) {
        case TokenTable.Verdict.Valid(Caller valid) -> valid;
        case TokenTable.Verdict.Refused(String reason) -> throw new Refused(reason);
      };
    }
    Optional<String> commonName = certificateName(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (security.clientCertificates() && commonName.isPresent()) {
      String name = commonName.get();
      try {
        return new Caller(name, security.adminCommonNames().contains(name) ? Caller.Role.ADMIN : Caller.Role.CLIENT);
      } catch (IllegalArgumentException e) {
        throw new Refused("the client certificate's subject CN cannot be an identity: " + e.getMessage());
      }
    }
    throw new Refused("authentication required: this coordinator takes " + accepted());
  }

  private String accepted() {
    String token = "a bearer token (stagefarm build --token-file FILE or STAGEFARM_TOKEN)";
    String certificate = "a client certificate (stagefarm build --tls-cert FILE --tls-key FILE)";
    if (security.tokens().isPresent() && security.clientCertificates()) {
      return token + " or " + certificate;
    }
    return security.tokens().isPresent() ? token : certificate;
  }

  /** The subject CN of the verified client certificate, if the TLS session has one. */
  private static Optional<String> certificateName(SSLSession session) throws Refused {
    if (session == null) {
      return Optional.empty();
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty(); // no client certificate in the handshake
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    try {
      String cn = null;
      for (Rdn rdn : new LdapName(leaf.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = rdn.getValue().toString();
        }
      }
      if (cn == null) {
        throw new Refused("the client certificate has no subject CN to take as the identity");
      }
      return Optional.of(cn);
    } catch (InvalidNameException e) {
      throw new Refused("the client certificate's subject cannot be read: " + e.getMessage());
    }
  }
}
