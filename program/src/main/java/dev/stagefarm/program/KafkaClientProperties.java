package dev.stagefarm.program;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The Kafka client security settings a farm part passes to every Kafka client it creates (producers,
 * consumers, share consumers, the admin client): {@code security.protocol}, {@code sasl.*} and
 * {@code ssl.*}, read from a Java properties file as Kafka's own tools read {@code
 * --command-config}. See docs/configuration.md ("Kafka authentication").
 *
 * <p>Strict: a key that is not a Kafka client security setting is an error naming it, so a typo
 * ({@code ssl.truststore.locaton}) cannot leave a client talking plain text, and settings the farm
 * chooses itself ({@code acks}, {@code group.id}, serializers, ...) cannot be overridden by accident.
 *
 * <p>Secret values ({@code sasl.jaas.config}, passwords, inline keys) never appear in {@link
 * #toString()}; Kafka's own client logs print them as {@code [hidden]}.
 */
public final class KafkaClientProperties {
  /** {@code security.protocol} (Kafka's {@code CommonClientConfigs.SECURITY_PROTOCOL_CONFIG}). */
  public static final String SECURITY_PROTOCOL = "security.protocol";

  private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");

  /**
   * Every client SASL and SSL key of Kafka 4.4 ({@code SaslConfigs.addClientSaslSupport},
   * {@code SslConfigs.addClientSslSupport}); a worker test compares this list with Kafka's, so an
   * upgrade that adds a key fails the build until it is listed.
   */
  private static final Set<String> SECURITY_KEYS = Set.of(
      "sasl.client.callback.handler.class", "sasl.jaas.config", "sasl.kerberos.kinit.cmd",
      "sasl.kerberos.min.time.before.relogin", "sasl.kerberos.service.name", "sasl.kerberos.ticket.renew.jitter",
      "sasl.kerberos.ticket.renew.window.factor", "sasl.login.callback.handler.class", "sasl.login.class",
      "sasl.login.connect.timeout.ms", "sasl.login.read.timeout.ms", "sasl.login.refresh.buffer.seconds",
      "sasl.login.refresh.min.period.seconds", "sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter",
      "sasl.login.retry.backoff.max.ms", "sasl.login.retry.backoff.ms", "sasl.mechanism",
      "sasl.oauthbearer.allow.unverified.audience", "sasl.oauthbearer.allow.unverified.issuer",
      "sasl.oauthbearer.assertion.algorithm", "sasl.oauthbearer.assertion.claim.aud",
      "sasl.oauthbearer.assertion.claim.exp.seconds", "sasl.oauthbearer.assertion.claim.iss",
      "sasl.oauthbearer.assertion.claim.jti.include", "sasl.oauthbearer.assertion.claim.nbf.seconds",
      "sasl.oauthbearer.assertion.claim.sub", "sasl.oauthbearer.assertion.file",
      "sasl.oauthbearer.assertion.private.key.file", "sasl.oauthbearer.assertion.private.key.passphrase",
      "sasl.oauthbearer.assertion.template.file", "sasl.oauthbearer.client.credentials.client.id",
      "sasl.oauthbearer.client.credentials.client.secret", "sasl.oauthbearer.clock.skew.seconds",
      "sasl.oauthbearer.expected.audience", "sasl.oauthbearer.expected.issuer", "sasl.oauthbearer.header.urlencode",
      "sasl.oauthbearer.jwks.endpoint.refresh.ms", "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
      "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", "sasl.oauthbearer.jwks.endpoint.url",
      "sasl.oauthbearer.jwt.retriever.class", "sasl.oauthbearer.jwt.validator.class", "sasl.oauthbearer.scope",
      "sasl.oauthbearer.scope.claim.name", "sasl.oauthbearer.sub.claim.name", "sasl.oauthbearer.token.endpoint.url",
      "ssl.cipher.suites", "ssl.enabled.protocols", "ssl.endpoint.identification.algorithm", "ssl.engine.factory.class",
      "ssl.key.password", "ssl.keymanager.algorithm", "ssl.keystore.certificate.chain", "ssl.keystore.key",
      "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type", "ssl.protocol", "ssl.provider",
      "ssl.secure.random.implementation", "ssl.trustmanager.algorithm", "ssl.truststore.certificates",
      "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type");

  /** The keys of {@link #SECURITY_KEYS} that Kafka types as passwords: never printed. */
  private static final Set<String> SECRET_KEYS = Set.of(
      "sasl.jaas.config", "sasl.oauthbearer.assertion.private.key.passphrase",
      "sasl.oauthbearer.client.credentials.client.secret", "ssl.key.password", "ssl.keystore.certificate.chain",
      "ssl.keystore.key", "ssl.keystore.password", "ssl.truststore.certificates", "ssl.truststore.password");

  /** The client SASL and SSL keys this class accepts (besides {@code security.protocol}). */
  public static Set<String> securityKeys() {
    return SECURITY_KEYS;
  }

  /** The keys whose values are secret (never printed). */
  public static Set<String> secretKeys() {
    return SECRET_KEYS;
  }

  private static final KafkaClientProperties NONE = new KafkaClientProperties(Map.of());

  private final Map<String, String> values;

  private KafkaClientProperties(Map<String, String> values) {
    this.values = values;
  }

  /** No settings: plain-text connections without authentication (the embedded farm, tests). */
  public static KafkaClientProperties none() {
    return NONE;
  }

  /**
   * @throws IllegalArgumentException naming the first key that is not a Kafka client security
   *     setting, or an unknown {@code security.protocol}
   */
  public static KafkaClientProperties of(Map<String, String> settings) {
    Map<String, String> checked = new TreeMap<>();
    settings.forEach((key, value) -> {
      String k = key.strip();
      if (!k.equals(SECURITY_PROTOCOL) && !SECURITY_KEYS.contains(k)) {
        throw new IllegalArgumentException(k.startsWith("sasl.") || k.startsWith("ssl.")
            ? "'" + k + "' is not a Kafka client setting (a typo? see Kafka's SaslConfigs/SslConfigs)"
            : "'" + k + "' is not a Kafka client security setting (security.protocol, sasl.*, ssl.*);"
                + " the farm chooses its other client settings itself");
      }
      checked.put(k, value.strip());
    });
    String protocol = checked.get(SECURITY_PROTOCOL);
    if (protocol != null && !PROTOCOLS.contains(protocol)) {
      throw new IllegalArgumentException(
          "security.protocol must be one of " + new TreeSet<>(PROTOCOLS) + ", got '" + protocol + "'");
    }
    return checked.isEmpty() ? NONE : new KafkaClientProperties(Map.copyOf(checked));
  }

  /**
   * Reads a Java properties file ({@code key=value}, {@code #} comments, {@code \} continues a line).
   *
   * @throws IllegalArgumentException naming the file and the key that is not allowed
   */
  public static KafkaClientProperties load(Path file) throws IOException {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    }
    Map<String, String> settings = new TreeMap<>();
    properties.stringPropertyNames().forEach(name -> settings.put(name, properties.getProperty(name)));
    try {
      return of(settings);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Kafka properties file " + file + ": " + e.getMessage(), e);
    }
  }

  /** The settings, to put into a Kafka client's configuration (after the farm's own keys). */
  public Map<String, String> asMap() {
    return values;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** The keys and their values, secret values replaced by {@code [hidden]}: safe for logs. */
  @Override
  public String toString() {
    return values.entrySet().stream()
        .map(e -> e.getKey() + "=" + (SECRET_KEYS.contains(e.getKey()) ? "[hidden]" : e.getValue()))
        .collect(Collectors.joining(", ", "KafkaClientProperties{", "}"));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KafkaClientProperties other && values.equals(other.values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }
}
