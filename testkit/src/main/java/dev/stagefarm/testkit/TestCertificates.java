package dev.stagefarm.testkit;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for TLS tests: issues server and client certificates and
 * writes them as the PEM files an operator would have (certificate chain, PKCS#8 key).
 */
public final class TestCertificates {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** PEM files of one certificate and its key. */
  public record Issued(Path cert, Path key) {}

  private final String name;
  private final KeyPair keys;
  private final X509Certificate certificate;
  private final Path dir;

  private TestCertificates(String name, KeyPair keys, X509Certificate certificate, Path dir) {
    this.name = name;
    this.keys = keys;
    this.certificate = certificate;
    this.dir = dir;
  }

  /** A new self-signed CA whose files are written under {@code dir}. */
  public static TestCertificates authority(String name, Path dir) {
    KeyPair keys = newKeys();
    X500Name subject = new X500Name("CN=" + name);
    X509Certificate ca = sign(subject, keys, subject, keys.getPrivate(), builder -> {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    });
    TestCertificates authority = new TestCertificates(name, keys, ca, dir);
    authority.write(name + "-ca.pem", ca);
    return authority;
  }

  /** The CA certificate (what clients trust, or what the server checks client certificates against). */
  public Path caCert() {
    return dir.resolve(name + "-ca.pem");
  }

  /** A server certificate for localhost and 127.0.0.1. */
  public Issued server(String commonName) {
    return issue(commonName, KeyPurposeId.id_kp_serverAuth, true);
  }

  /** A client certificate whose subject CN is the identity. */
  public Issued client(String commonName) {
    return issue(commonName, KeyPurposeId.id_kp_clientAuth, false);
  }

  private Issued issue(String commonName, KeyPurposeId purpose, boolean localhostNames) {
    KeyPair leafKeys = newKeys();
    X509Certificate leaf = sign(new X500Name("CN=" + commonName), leafKeys, new X500Name("CN=" + name),
        keys.getPrivate(), builder -> {
          builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
          builder.addExtension(Extension.keyUsage, true,
              new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
          builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
          if (localhostNames) {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
          }
        });
    String base = name + "-" + commonName;
    Path cert = write(base + ".pem", leaf);
    Path key = dir.resolve(base + "-key.pem");
    try (JcaPEMWriter pem = new JcaPEMWriter(Files.newBufferedWriter(key))) {
      pem.writeObject(new JcaPKCS8Generator(leafKeys.getPrivate(), null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Issued(cert, key);
  }

  private interface Extensions {
    void add(X509v3CertificateBuilder builder) throws IOException;
  }

  private static X509Certificate sign(
      X500Name subject, KeyPair subjectKeys, X500Name issuer, PrivateKey issuerKey, Extensions extensions) {
    Instant now = Instant.now();
    try {
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
          Date.from(now.plus(Duration.ofDays(1))), subject, subjectKeys.getPublic());
      extensions.add(builder);
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot issue a test certificate for " + subject, e);
    }
  }

  private static KeyPair newKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private Path write(String file, X509Certificate cert) {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(text)) {
      pem.writeObject(cert);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      Files.createDirectories(dir);
      return Files.writeString(dir.resolve(file), text.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
