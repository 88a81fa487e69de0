package dev.stagefarm.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LimitedInputStreamTest {

    private static final byte[] TEN = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    // ---- stopping after N: a range ----

    @Test
    void aStoppingStreamEndsAfterItsLimitAndLeavesTheRestOfTheSourceUnread() throws IOException {
        ByteArrayInputStream source = new ByteArrayInputStream(TEN);
        try (InputStream in = LimitedInputStream.stoppingAfter(source, 4)) {
            assertThat(in.readAllBytes()).containsExactly(0, 1, 2, 3);
            assertThat(in.read()).isEqualTo(-1);
            assertThat(in.read(new byte[8], 0, 8)).isEqualTo(-1);
        }
        assertThat(source.available()).as("the source is not read past the range").isEqualTo(6);
    }

    @Test
    void aStoppingStreamAtExactlyTheSourcesLengthGivesItAllAndAShorterSourceEndsFirst() throws IOException {
        assertThat(LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), 10).readAllBytes()).isEqualTo(TEN);
        assertThat(LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), 11).readAllBytes()).isEqualTo(TEN);
        assertThat(LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), 0).read()).isEqualTo(-1);
    }

    @Test
    void aStoppingStreamCountsSingleByteReadsAndSkipsAgainstItsLimit() throws IOException {
        InputStream in = LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), 5);
        assertThat(in.read()).isEqualTo(0);
        assertThat(in.skip(100)).as("a skip stops at the limit").isEqualTo(4);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.available()).isZero();
        assertThat(in.read(new byte[4], 0, 0)).as("a read of nothing reads nothing, also at the end").isZero();
    }

    // ---- failing past N, naming the limit ----

    @Test
    void aFailingStreamOfExactlyItsLimitEndsNormally() throws IOException {
        assertThat(LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 10, "the blob").readAllBytes())
                .isEqualTo(TEN);
        assertThat(LimitedInputStream.failingPast(new ByteArrayInputStream(new byte[0]), 0, "the blob").read())
                .isEqualTo(-1);
        InputStream byByte = LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 10, "the blob");
        for (int i = 0; i < 10; i++) {
            assertThat(byByte.read()).isEqualTo(i);
        }
        assertThat(byByte.read()).isEqualTo(-1);
    }

    @Test
    void aFailingStreamOneBytePastItsLimitFailsNamingTheLimit() {
        assertThatThrownBy(() -> LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 9, "the blob")
                .readAllBytes()).isInstanceOf(IOException.class).hasMessage("the blob has more than 9 bytes");
        assertThatThrownBy(() -> LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 0, "the config")
                .read()).isInstanceOf(IOException.class).hasMessage("the config has more than 0 bytes");
    }

    @Test
    void aFailingStreamReadByteByByteFailsAtTheFirstBytePastTheLimitAndOnEveryReadAfter() throws IOException {
        InputStream in = LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 3, "the index");
        assertThat(in.read()).isZero();
        assertThat(in.read(new byte[2])).isEqualTo(2);
        assertThatThrownBy(in::read).hasMessage("the index has more than 3 bytes");
        assertThatThrownBy(() -> in.read(new byte[4])).hasMessage("the index has more than 3 bytes");
        assertThatThrownBy(() -> in.skip(1)).hasMessage("the index has more than 3 bytes");
    }

    @Test
    void aFailingStreamAsksAnEndlessSourceForAtMostOneBytePastTheLimit() {
        Endless source = new Endless();
        assertThatThrownBy(() -> LimitedInputStream.failingPast(source, 1000, "the response").readAllBytes())
                .hasMessage("the response has more than 1000 bytes");
        assertThat(source.served).isEqualTo(1001);
    }

    @Test
    void aSkipCannotCarryAFailingStreamPastItsLimitUnnoticed() throws IOException {
        InputStream in = LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 4, "the blob");
        assertThat(in.skip(100)).isEqualTo(4);
        assertThatThrownBy(in::read).hasMessage("the blob has more than 4 bytes");
    }

    @Test
    void aFailingStreamThrowsTheCallersUncheckedErrorWhenGivenOne() throws IOException {
        InputStream in = LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), 4,
                () -> new IllegalStateException("over the limit max-thing = 4 bytes"));
        assertThat(in.readNBytes(4)).containsExactly(0, 1, 2, 3);
        assertThatThrownBy(in::read).isInstanceOf(IllegalStateException.class)
                .hasMessage("over the limit max-thing = 4 bytes");
    }

    @Test
    void aLongLimitDoesNotOverflow() throws IOException {
        assertThat(LimitedInputStream.failingPast(new ByteArrayInputStream(TEN), Long.MAX_VALUE, "x").readAllBytes())
                .isEqualTo(TEN);
        assertThat(LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), Long.MAX_VALUE).readAllBytes())
                .isEqualTo(TEN);
        assertThatThrownBy(() -> LimitedInputStream.stoppingAfter(new ByteArrayInputStream(TEN), -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** Zeros without end, counting what it served. */
    private static final class Endless extends InputStream {
        long served;

        @Override
        public int read() {
            served++;
            return 0;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            Arrays.fill(b, off, off + len, (byte) 0);
            served += len;
            return len;
        }
    }
}
