package dev.quanta.runner.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quanta's WordPiece tokenizer against Hugging Face's own (through DJL), id for id. */
class WordPieceTokenizerTest {

    /** The MiniLM's tokenizer.json, unpacked at build time (see the runner's pom). */
    static final Path TOKENIZER = Path.of("target/models/all-minilm-l6-v2-q/tokenizer.json");

    private static final List<String> SENTENCES = List.of(
            "The quick brown fox jumps over the lazy dog.",
            "Hello, world! How are you?",
            "Café, naïve, résumé, Ångström, façade: accents go.",
            "ÉCOLE Straße İstanbul ΣΟΦΟΣ σοφός",
            "Punctuation... (brackets) [more] {braces} \"quotes\" 'single' — dashes – and ‘curly’ “ones”!?",
            "$100 + 5% = <tag> ^caret^ `tick` |pipe| ~tilde~ #hash @at &amp; *star* _under_",
            "北京是中国的首都。東京は日本の首都です。서울은 한국의 수도입니다.",
            "Emoji: 😀 🙂 👍🏽 ❤️ 🥰 🫠 👨‍👩‍👧 🇫🇷 ✨",
            "Tabs\tand\nnew\r\nlines\u000Band\u000Cfeeds\u0085next\u00A0nbsp\u2003em\u3000ideographic",
            "Control\u0000char\u0007bell\uFFFDreplacement\u200Bzero-width\u200Djoiner\uE000private",
            "[CLS] special [SEP] tokens [MASK] in [PAD] text [UNK] and [cls] lower",
            "unbelievably antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
            "https://example.com/path?query=1&b=2 user@example.org 3.14159 1,000,000 2026-11-24",
            "a".repeat(99) + " " + "b".repeat(100) + " " + "c".repeat(101),
            "Numbers 0123456789 and Arabic ٠١٢٣ and Devanagari नमस्ते and Thai สวัสดี",
            "",
            "   ",
            "Zalgo t̸̡̛e̵͓̍x̶̧̛t̷̰̔ and combining e\u0301 a\u0308 n\u0303",
            "Mathematical 𝐀𝐁𝐂 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and fullwidth ＡＢＣ１２３",
            "The end. " + "Over-long input repeats itself. ".repeat(60));

    @TempDir
    static Path folder;
    private static HuggingFaceTokenizer reference;
    private static WordPieceTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        reference = HuggingFaceTokenizer.builder().optTokenizerPath(TOKENIZER).optTruncation(true)
                .optMaxLength(128).optPadding(false).build();
        tokenizer = WordPieceTokenizer.load(TOKENIZER);
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    @Test
    void sentencesGiveHuggingFacesIds() {
        for (String sentence : SENTENCES) {
            assertSame(sentence, tokenizer.encode(sentence), reference.encode(sentence));
        }
    }

    @Test
    void pairsGiveHuggingFacesIdsAndTypes() {
        for (int i = 0; i + 1 < SENTENCES.size(); i++) {
            String first = SENTENCES.get(i);
            String second = SENTENCES.get(SENTENCES.size() - 1 - i);
            assertSame(first + " | " + second, tokenizer.encode(first, second), reference.encode(first, second));
        }
    }

    @Test
    void randomTextGivesHuggingFacesIds() {
        // Words drawn from the scripts and categories the normalizer treats differently.
        int[][] ranges = {{0x20, 0x7E}, {0x00, 0x1F}, {0xA0, 0x17F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF},
            {0x590, 0x6FF}, {0x900, 0x97F}, {0x2000, 0x206F}, {0x2E00, 0x2E7F}, {0x0860, 0x08FF}, {0x13400, 0x1345F}, {0x1AB0, 0x1AFF}, {0x11400, 0x1147F}, {0x3000, 0x303F}, {0x3040, 0x30FF}, {0x4E00, 0x4FFF},
            {0xAC00, 0xAD00}, {0xE000, 0xE010}, {0xFF00, 0xFFEF}, {0x1F300, 0x1FAFF}, {0x20000, 0x20100},
            {0xF0000, 0xF0010}};
        Random random = new Random(20261124);
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                int[] range = ranges[random.nextInt(ranges.length)];
                text.appendCodePoint(range[0] + random.nextInt(range[1] - range[0] + 1));
                if (random.nextInt(5) == 0) {
                    text.append(' ');
                }
            }
            String sentence = text.toString();
            assertSame(sentence, tokenizer.encode(sentence), reference.encode(sentence));
        }
    }

    @Test
    void truncationKeepsTheSpecialTokens() {
        Encoding encoding = tokenizer.encode("word ".repeat(500));
        assertThat(encoding.length()).isEqualTo(128);
        assertThat(encoding.tokens()[0]).isEqualTo("[CLS]");
        assertThat(encoding.tokens()[127]).isEqualTo("[SEP]");
        assertThat(tokenizer.encode("word ".repeat(500), 16).length()).isEqualTo(16);
    }

    @Test
    void unreadableFilesAreNamedInTheError() throws IOException {
        Path missing = folder.resolve("missing.json");
        assertThatThrownBy(() -> WordPieceTokenizer.load(missing))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("missing.json");
        Path garbage = Files.writeString(folder.resolve("garbage.json"), "{\"model\": ");
        assertThatThrownBy(() -> WordPieceTokenizer.load(garbage))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("garbage.json");
        Path bpe = Files.writeString(folder.resolve("bpe.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
        assertThatThrownBy(() -> WordPieceTokenizer.load(bpe))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("BPE");
        Path badIds = Files.writeString(folder.resolve("ids.json"),
                "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": 7}}}");
        assertThatThrownBy(() -> WordPieceTokenizer.load(badIds))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("\"a\"");
    }

    private static void assertSame(String text, Encoding actual, ai.djl.huggingface.tokenizers.Encoding expected) {
        List<String> context = new ArrayList<>(List.of(expected.getTokens()));
        assertThat(actual.ids()).as("ids of %s (expected tokens %s, got %s)", escape(text), context,
                Arrays.toString(actual.tokens())).containsExactly(Arrays.stream(expected.getIds()).mapToInt(Math::toIntExact).toArray());
        assertThat(actual.typeIds()).as("type ids of %s", escape(text))
                .containsExactly(Arrays.stream(expected.getTypeIds()).mapToInt(Math::toIntExact).toArray());
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> out.append(c < 0x20 || c > 0x7E ? String.format("\\u{%X}", c) : (char) c));
        return out.toString();
    }
}
