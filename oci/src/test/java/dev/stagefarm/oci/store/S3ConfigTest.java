package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class S3ConfigTest {

    private static S3Config at(String endpoint) {
        return new S3Config(endpoint, "key", "secret", "farm");
    }

    @Test
    void loopbackAndTlsEndpointsAreNotPlainHttpOverANetwork() {
        assertThat(at("http://127.0.0.1:9000").plainHttpOverNetwork()).isFalse();
        assertThat(at("http://127.3.4.5").plainHttpOverNetwork()).isFalse();
        assertThat(at("http://localhost:9000").plainHttpOverNetwork()).isFalse();
        assertThat(at("http://[::1]:9000").plainHttpOverNetwork()).isFalse();
        assertThat(at("https://s3.example.com").plainHttpOverNetwork()).isFalse();
    }

    @Test
    void plainHttpToAnotherHostIsOverANetwork() {
        assertThat(at("http://10.0.0.5:9000").plainHttpOverNetwork()).isTrue();
        assertThat(at("http://minio.farm.internal:9000").plainHttpOverNetwork()).isTrue();
        // A name that merely starts like a loopback address is still another host.
        assertThat(at("http://localhost.example.com").plainHttpOverNetwork()).isTrue();
        assertThat(at("http://127.0.0.1.nip.io").plainHttpOverNetwork()).isTrue();
    }

    @Test
    void unsignedPayloadsOverPlainHttpAreOptIn() {
        assertThat(StoreOptions.DEFAULT.unsignedPayloadOverPlainHttp()).isFalse();
        assertThat(StoreOptions.DEFAULT.withUnsignedPayloadOverPlainHttp(true).unsignedPayloadOverPlainHttp()).isTrue();
    }

    @Test
    void endpointMustBeAnHttpUrl() {
        assertThatThrownBy(() -> at("s3.example.com")).hasMessageContaining("http:// or https://");
    }
}
