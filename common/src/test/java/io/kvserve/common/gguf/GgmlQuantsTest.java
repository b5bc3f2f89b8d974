package io.kvserve.common.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class GgmlQuantsTest {

    private static float[] dequant(GgmlType type, byte[] bytes, int numElements) {
        float[] out = new float[numElements];
        GgmlQuants.dequantize(type, MemorySegment.ofArray(bytes), 0, out, 0, numElements);
        return out;
    }

    private static short f16(float v) {
        return Float.floatToFloat16(v);
    }

    @Test
    void bf16_halfwayValues_roundToNearestEven() {
        // 1 + 2^-8 is exactly between bf16 1.0 (0x3F80) and 1.0078125 (0x3F81): ties to even 0x3F80
        assertThat(GgmlQuants.f32ToBf16(Float.intBitsToFloat(0x3F80_8000))).isEqualTo((short) 0x3F80);
        // 0x3F818000 is between 0x3F81 and 0x3F82: ties to even 0x3F82
        assertThat(GgmlQuants.f32ToBf16(Float.intBitsToFloat(0x3F81_8000))).isEqualTo((short) 0x3F82);
        assertThat(GgmlQuants.f32ToBf16(Float.intBitsToFloat(0x3F80_8001))).isEqualTo((short) 0x3F81);
        assertThat(GgmlQuants.bf16ToF32(GgmlQuants.f32ToBf16(Float.NaN))).isNaN();
        assertThat(GgmlQuants.bf16ToF32(GgmlQuants.f32ToBf16(Float.NEGATIVE_INFINITY))).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(GgmlQuants.bf16ToF32((short) 0xC040)).isEqualTo(-3.0f);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void plainTypes_representableValues_roundTripExactly(GgmlType type) {
        float[] x = {0f, -0f, 1f, -2.5f, 0.125f, 4096f, -1024f, 3.0f};
        byte[] bytes = GgmlQuants.quantize(type, x);
        assertThat(bytes).hasSize(x.length * (type == GgmlType.F32 ? 4 : 2));
        assertThat(dequant(type, bytes, x.length)).containsExactly(x);
    }

    @Test
    void f16_littleEndianBytes_matchIeeeHalf() {
        byte[] bytes = GgmlQuants.quantize(GgmlType.F16, new float[] {1.0f});
        assertThat(bytes).containsExactly(0x00, 0x3C);
    }

    @Test
    void q4_0_handBuiltBlock_lowNibblesAreFirstSixteen() {
        ByteBuffer b = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(f16(0.5f));
        for (int j = 0; j < 16; j++) {
            b.put((byte) ((j & 0xF) | ((15 - j) << 4)));
        }
        float[] y = dequant(GgmlType.Q4_0, b.array(), 32);
        for (int j = 0; j < 16; j++) {
            assertThat(y[j]).isEqualTo((j - 8) * 0.5f);
            assertThat(y[j + 16]).isEqualTo((15 - j - 8) * 0.5f);
        }
    }

    @Test
    void q8_0_handBuiltBlock_isSignedBytesTimesScale() {
        ByteBuffer b = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(f16(0.25f));
        for (int j = 0; j < 32; j++) {
            b.put((byte) (j * 8 - 128));
        }
        float[] y = dequant(GgmlType.Q8_0, b.array(), 32);
        for (int j = 0; j < 32; j++) {
            assertThat(y[j]).isEqualTo((j * 8 - 128) * 0.25f);
        }
    }

    @Test
    void q4_K_handBuiltBlock_unpacksSixBitScalesAndMins() {
        int[] sc = {1, 2, 3, 63, 17, 33, 48, 62};
        int[] mn = {5, 0, 63, 7, 49, 16, 31, 60};
        byte[] scales = new byte[12];
        for (int j = 0; j < 4; j++) {
            scales[j] = (byte) (sc[j] | ((sc[j + 4] >> 4) << 6));
            scales[j + 4] = (byte) (mn[j] | ((mn[j + 4] >> 4) << 6));
            scales[j + 8] = (byte) ((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
        }
        ByteBuffer b = ByteBuffer.allocate(144).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(f16(0.5f)).putShort(f16(0.25f)).put(scales);
        for (int i = 0; i < 128; i++) {
            b.put((byte) ((i % 16) | (((i * 7) % 16) << 4)));
        }
        for (int j = 0; j < 8; j++) {
            assertThat(GgmlQuants.scaleK4(scales, j)).as("scale %d", j).isEqualTo(sc[j]);
            assertThat(GgmlQuants.minK4(scales, j)).as("min %d", j).isEqualTo(mn[j]);
        }
        float[] y = dequant(GgmlType.Q4_K, b.array(), 256);
        for (int e = 0; e < 256; e++) {
            int group = e / 64;
            int within = e % 64;
            int byteIndex = 32 * group + within % 32;
            int q = within < 32 ? byteIndex % 16 : (byteIndex * 7) % 16;
            int sub = e / 32;
            assertThat(y[e]).as("element %d", e).isEqualTo(0.5f * sc[sub] * q - 0.25f * mn[sub]);
        }
    }

    @Test
    void q6_K_handBuiltBlock_assemblesSixBitValuesPerElement() {
        // choose q(e) = (e * 5) % 64 and scale(sub) = sub - 8 and rebuild the bytes by the documented layout
        byte[] block = new byte[210];
        for (int e = 0; e < 256; e++) {
            int q = (e * 5) % 64;
            int half = e / 128;
            int w = e % 128;
            int quarter = w / 32;
            int l = w % 32;
            int qlIndex = 64 * half + l + (quarter % 2 == 1 ? 32 : 0);
            int shift = quarter >= 2 ? 4 : 0;
            block[qlIndex] |= (byte) ((q & 0xF) << shift);
            block[128 + 32 * half + l] |= (byte) ((q >> 4) << (2 * quarter));
        }
        for (int sub = 0; sub < 16; sub++) {
            block[192 + sub] = (byte) (sub - 8);
        }
        short d = f16(0.125f);
        block[208] = (byte) d;
        block[209] = (byte) (d >> 8);
        float[] y = dequant(GgmlType.Q6_K, block, 256);
        for (int e = 0; e < 256; e++) {
            assertThat(y[e]).as("element %d", e).isEqualTo(0.125f * (e / 16 - 8) * ((e * 5) % 64 - 32));
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "F16", "BF16"})
    void quantize_randomData_dequantizesWithinStatedTolerance(GgmlType type) {
        Random random = new Random(42);
        int n = 256 * 8;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            // blocks of very different magnitude, some all-positive, one all zero
            int block = i / 256;
            x[i] = block == 3 ? 0f : (float) (random.nextGaussian() * Math.pow(4, block - 4) + (block == 5 ? 2 : 0));
        }
        byte[] bytes = GgmlQuants.quantize(type, x);
        assertThat(bytes).hasSize(n / type.blockSize() * type.typeSize());
        float[] y = dequant(type, bytes, n);
        int groupSize = type.blockSize() == 1 ? 1 : type.blockSize();
        for (int g = 0; g < n; g += groupSize) {
            float amax = 0;
            float min = 0;
            float max = 0;
            for (int i = g; i < g + groupSize; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
                min = Math.min(min, x[i]);
                max = Math.max(max, x[i]);
            }
            float tolerance = switch (type) {
                case Q8_0 -> amax / 220 + 1e-7f; // d/2 plus 127 q times d's f16 rounding (2^-11 d)
                case Q4_0 -> amax / 8 * 1.01f + 1e-7f;
                case Q4_K -> (max - min) / 16 + 1e-6f;
                case Q6_K -> amax / 50 + 1e-6f;
                case F16 -> amax / 1024 + 6e-8f; // 2^-24: spacing of f16 subnormals
                case BF16 -> amax / 128;
                default -> throw new AssertionError(type);
            };
            for (int i = g; i < g + groupSize; i++) {
                assertThat(Math.abs(y[i] - x[i])).as("%s element %d (x=%s y=%s)", type, i, x[i], y[i])
                        .isLessThanOrEqualTo(tolerance);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q4_K", "Q6_K"})
    void quantize_ofDequantizedValues_isStableUnderRequantization(GgmlType type) {
        Random random = new Random(7);
        float[] x = new float[512];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        float[] once = dequant(type, GgmlQuants.quantize(type, x), x.length);
        float[] twice = dequant(type, GgmlQuants.quantize(type, once), x.length);
        double err1 = 0;
        double err2 = 0;
        for (int i = 0; i < x.length; i++) {
            err1 += (once[i] - x[i]) * (once[i] - x[i]);
            err2 += (twice[i] - once[i]) * (twice[i] - once[i]);
        }
        // re-quantizing values already on a grid must not lose more than the first pass did
        assertThat(err2).isLessThanOrEqualTo(err1 + 1e-9);
    }

    @Test
    void dequantize_unsupportedType_namesIt() {
        assertThatThrownBy(() -> GgmlQuants.dequantize(GgmlType.Q5_K, MemorySegment.ofArray(new byte[176]), 0,
                new float[256], 0, 256))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Q5_K");
    }

    @Test
    void quantize_partialBlock_isRejected() {
        assertThatThrownBy(() -> GgmlQuants.quantize(GgmlType.Q8_0, new float[33]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size 32");
    }

    @Test
    void ggmlType_ids_matchGgml() {
        assertThat(GgmlType.fromId(12)).contains(GgmlType.Q4_K);
        assertThat(GgmlType.fromId(30)).contains(GgmlType.BF16);
        assertThat(GgmlType.fromId(31)).isEmpty();
        assertThat(GgmlType.fromId(-1)).isEmpty();
        assertThat(GgmlType.Q6_K.typeSize()).isEqualTo(210);
        assertThat(GgmlType.Q4_K.byteSize(512)).isEqualTo(288);
    }
}
