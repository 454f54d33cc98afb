package dev.quanta.runner.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The BERT tokenizer of a Hugging Face {@code tokenizer.json}: BertNormalizer, BertPreTokenizer,
 * WordPiece, and the template that adds [CLS] and [SEP], with the file's truncation. Gives the ids
 * Hugging Face's tokenizers library gives, special tokens written in the text included.
 */
public final class WordPieceTokenizer {

    /** Protects against a malformed file declaring an absurd vocabulary. */
    private static final long MAX_TOKENIZER_BYTES = 64L << 20;

    private final Map<String, Integer> vocabulary;
    private final String[] tokens;
    private final int unknownId;
    private final String continuationPrefix;
    private final int maxCharactersPerWord;
    private final boolean cleanText;
    private final boolean chineseCharacters;
    private final boolean stripAccents;
    private final boolean lowercase;
    private final List<AddedToken> addedTokens;
    private final Template single;
    private final Template pair;
    private final int maxLength;

    /** A token matched in the text itself; {@code pattern} is its content, normalized if the file says so. */
    private record AddedToken(String content, String pattern, int id, boolean singleWord, boolean leftStrip,
            boolean rightStrip, boolean normalized) {}

    /** A post-processing template: its pieces are either a sequence (A or B) or a special token's ids. */
    private record Template(List<Piece> pieces) {
        int specialTokens() {
            return pieces.stream().mapToInt(piece -> piece.specialIds == null ? 0 : piece.specialIds.length).sum();
        }
    }

    private record Piece(int sequence, int[] specialIds, String[] specialTokens, int typeId) {}

    private WordPieceTokenizer(JsonNode root, String source) {
        JsonNode model = require(root, "model", source);
        if (!"WordPiece".equals(model.path("type").asText())) {
            throw new TokenizerException(source + ": the model is " + model.path("type").asText("missing")
                    + "; Quanta's tokenizer reads WordPiece (BERT-style) tokenizers");
        }
        JsonNode vocab = require(model, "vocab", source);
        vocabulary = new HashMap<>(vocab.size() * 2);
        tokens = new String[vocab.size()];
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            int id = entry.getValue().asInt(-1);
            if (!entry.getValue().isInt() || id < 0 || id >= tokens.length || tokens[id] != null) {
                throw new TokenizerException(source + ": vocabulary entry \"" + entry.getKey() + "\" has id "
                        + entry.getValue() + "; ids must be distinct and below " + tokens.length);
            }
            tokens[id] = entry.getKey();
            vocabulary.put(entry.getKey(), id);
        }
        String unknown = model.path("unk_token").asText("[UNK]");
        unknownId = idOf(unknown, source);
        continuationPrefix = model.path("continuing_subword_prefix").asText("##");
        maxCharactersPerWord = model.path("max_input_chars_per_word").asInt(100);

        JsonNode normalizer = root.path("normalizer");
        if (normalizer.isMissingNode() || normalizer.isNull()) {
            cleanText = chineseCharacters = stripAccents = lowercase = false;
        } else if ("BertNormalizer".equals(normalizer.path("type").asText())) {
            cleanText = normalizer.path("clean_text").asBoolean(true);
            chineseCharacters = normalizer.path("handle_chinese_chars").asBoolean(true);
            lowercase = normalizer.path("lowercase").asBoolean(true);
            // Unset, accents follow lowercasing, as in BERT's uncased models.
            JsonNode strip = normalizer.path("strip_accents");
            stripAccents = strip.isBoolean() ? strip.asBoolean() : lowercase;
        } else {
            throw new TokenizerException(source + ": normalizer " + normalizer.path("type").asText()
                    + " is not supported; Quanta's tokenizer reads BertNormalizer");
        }
        JsonNode preTokenizer = root.path("pre_tokenizer");
        if (!preTokenizer.isNull() && !preTokenizer.isMissingNode()
                && !"BertPreTokenizer".equals(preTokenizer.path("type").asText())) {
            throw new TokenizerException(source + ": pre-tokenizer " + preTokenizer.path("type").asText()
                    + " is not supported; Quanta's tokenizer reads BertPreTokenizer");
        }

        List<AddedToken> added = new ArrayList<>();
        for (JsonNode token : root.path("added_tokens")) {
            String content = token.path("content").asText();
            if (content.isEmpty()) {
                continue;
            }
            boolean normalized = token.path("normalized").asBoolean();
            added.add(new AddedToken(content, normalized ? normalize(content) : content, token.path("id").asInt(),
                    token.path("single_word").asBoolean(), token.path("lstrip").asBoolean(),
                    token.path("rstrip").asBoolean(), normalized));
        }
        // The longest match wins where several start at the same place.
        added.removeIf(token -> token.pattern.isEmpty());
        added.sort(Comparator.comparingInt((AddedToken token) -> token.pattern.length()).reversed());
        addedTokens = List.copyOf(added);

        JsonNode processor = root.path("post_processor");
        String processorType = processor.path("type").asText("");
        switch (processorType) {
            case "TemplateProcessing" -> {
                single = template(processor.path("single"), processor.path("special_tokens"), source);
                pair = template(processor.path("pair"), processor.path("special_tokens"), source);
            }
            case "BertProcessing" -> {
                Piece cls = special(processor.path("cls"), 0, source);
                Piece sep = special(processor.path("sep"), 0, source);
                Piece sepB = new Piece(-1, sep.specialIds, sep.specialTokens, 1);
                single = new Template(List.of(cls, new Piece(0, null, null, 0), sep));
                pair = new Template(List.of(cls, new Piece(0, null, null, 0), sep, new Piece(1, null, null, 1), sepB));
            }
            case "" -> {
                single = new Template(List.of(new Piece(0, null, null, 0)));
                pair = new Template(List.of(new Piece(0, null, null, 0), new Piece(1, null, null, 1)));
            }
            default -> throw new TokenizerException(source + ": post-processor " + processorType
                    + " is not supported; Quanta's tokenizer reads TemplateProcessing and BertProcessing");
        }
        JsonNode truncation = root.path("truncation");
        maxLength = truncation.isObject() ? truncation.path("max_length").asInt(Integer.MAX_VALUE) : Integer.MAX_VALUE;
        if (truncation.isObject() && !"Right".equals(truncation.path("direction").asText("Right"))) {
            throw new TokenizerException(source + ": truncation from the " + truncation.path("direction").asText()
                    + " is not supported; Quanta truncates on the right");
        }
    }

    /** Reads a {@code tokenizer.json}. */
    public static WordPieceTokenizer load(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_TOKENIZER_BYTES) {
                throw new TokenizerException(file + " has " + size + " bytes; a tokenizer file must stay under "
                        + (MAX_TOKENIZER_BYTES >> 20) + " MiB");
            }
            return new WordPieceTokenizer(new ObjectMapper().readTree(file.toFile()), file.toString());
        } catch (NoSuchFileException e) {
            throw new TokenizerException("tokenizer file not found: " + file);
        } catch (IOException e) {
            throw new TokenizerException(file + " is not a readable tokenizer.json: " + e.getMessage(), e);
        }
    }

    /** Encodes one text: [CLS] text [SEP], truncated to the file's maximum length. */
    public Encoding encode(String text) {
        return encode(text, Integer.MAX_VALUE);
    }

    /** Encodes one text, truncated to {@code maxLength} tokens or the file's maximum, whichever is smaller. */
    public Encoding encode(String text, int maxLength) {
        List<Token> first = tokenize(text);
        int budget = Math.min(maxLength, this.maxLength) - single.specialTokens();
        if (budget < 0) {
            throw new IllegalArgumentException("a maximum length of " + maxLength + " leaves no room for the "
                    + single.specialTokens() + " special tokens");
        }
        return assemble(single, truncated(first, budget), List.of());
    }

    /** Encodes a pair of texts (as cross-encoders take them), the longer one truncated first. */
    public Encoding encode(String text, String pairText) {
        List<Token> first = tokenize(text);
        List<Token> second = tokenize(pairText);
        int budget = maxLength - pair.specialTokens();
        if (first.size() + second.size() > budget) {
            // Hugging Face's LongestFirst: the shorter keeps what it can, the longer the rest, halves if both overflow.
            boolean swap = first.size() > second.size();
            int shorter = Math.min(first.size(), second.size());
            int longer = Math.max(shorter, budget - shorter);
            if (shorter + longer > budget) {
                shorter = budget / 2;
                longer = shorter + budget % 2;
            }
            first = truncated(first, swap ? longer : shorter);
            second = truncated(second, swap ? shorter : longer);
        }
        return assemble(pair, first, second);
    }

    /** The largest number of tokens an encoding has, special tokens included (the file's truncation). */
    public int maxLength() {
        return maxLength;
    }

    public int vocabularySize() {
        return tokens.length;
    }

    /** The token of an id, as the vocabulary writes it. */
    public String token(int id) {
        return tokens[id];
    }

    private record Token(int id, String text) {}

    private static List<Token> truncated(List<Token> tokens, int length) {
        return tokens.size() <= length ? tokens : tokens.subList(0, Math.max(0, length));
    }

    private Encoding assemble(Template template, List<Token> first, List<Token> second) {
        List<Token> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (Piece piece : template.pieces) {
            if (piece.specialIds != null) {
                for (int i = 0; i < piece.specialIds.length; i++) {
                    tokens.add(new Token(piece.specialIds[i], piece.specialTokens[i]));
                    types.add(piece.typeId);
                }
            } else {
                for (Token token : piece.sequence == 0 ? first : second) {
                    tokens.add(token);
                    types.add(piece.typeId);
                }
            }
        }
        return new Encoding(tokens.stream().mapToInt(Token::id).toArray(), types.stream().mapToInt(i -> i).toArray(),
                tokens.stream().map(Token::text).toArray(String[]::new));
    }

    /** Added tokens split off first (as written, or after normalization), then the rest word by word. */
    private List<Token> tokenize(String text) {
        List<Token> out = new ArrayList<>();
        splitOnAddedTokens(text, false, out);
        return out;
    }

    private void splitOnAddedTokens(String text, boolean normalizedText, List<Token> out) {
        int start = 0;
        int position = 0;
        while (position < text.length()) {
            AddedToken match = match(text, position, normalizedText);
            if (match == null) {
                position++;
                continue;
            }
            int end = position + match.pattern.length();
            int left = position;
            if (match.leftStrip) {
                while (left > start && Character.isWhitespace(text.charAt(left - 1))) {
                    left--;
                }
            }
            if (match.rightStrip) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            plain(text.substring(start, left), normalizedText, out);
            out.add(new Token(match.id, match.content));
            start = position = end;
        }
        plain(text.substring(start), normalizedText, out);
    }

    private AddedToken match(String text, int position, boolean normalizedText) {
        for (AddedToken token : addedTokens) {
            if (token.normalized != normalizedText || !text.startsWith(token.pattern, position)) {
                continue;
            }
            int end = position + token.pattern.length();
            if (token.singleWord && (position > 0 && isWordCharacter(text.codePointBefore(position))
                    || end < text.length() && isWordCharacter(text.codePointAt(end)))) {
                continue;
            }
            return token;
        }
        return null;
    }

    private static boolean isWordCharacter(int c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    private void plain(String text, boolean normalizedText, List<Token> out) {
        if (text.isEmpty()) {
            return;
        }
        if (!normalizedText) {
            splitOnAddedTokens(normalize(text), true, out);
            return;
        }
        for (String word : words(text)) {
            wordPieces(word, out);
        }
    }

    /** BertNormalizer: clean the text, space out CJK ideographs, strip accents, lowercase. */
    String normalize(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || isControl(c)) {
                    return;
                }
                if (isWhitespace(c)) {
                    c = ' ';
                }
            }
            if (chineseCharacters && isChineseCharacter(c)) {
                out.append(' ').appendCodePoint(c).append(' ');
            } else {
                out.appendCodePoint(c);
            }
        });
        String result = out.toString();
        if (stripAccents) {
            StringBuilder stripped = new StringBuilder(result.length());
            Normalizer.normalize(result, Normalizer.Form.NFD).codePoints()
                    .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK || UnicodeEight.assignedLater(c))
                    .forEach(stripped::appendCodePoint);
            result = stripped.toString();
        }
        if (lowercase) {
            StringBuilder lower = new StringBuilder(result.length());
            // Character by character, without context (no final sigma), as the Rust library does.
            result.codePoints().forEach(c -> {
                if (c == 0x130) {
                    lower.append("i\u0307");
                } else {
                    lower.appendCodePoint(Character.toLowerCase(c));
                }
            });
            result = lower.toString();
        }
        return result;
    }

    /** BertPreTokenizer: split on whitespace, each punctuation character a word of its own. */
    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (isWhitespace(c) || isPunctuation(c)) {
                if (!word.isEmpty()) {
                    words.add(word.toString());
                    word.setLength(0);
                }
                if (!isWhitespace(c)) {
                    words.add(Character.toString(c));
                }
            } else {
                word.appendCodePoint(c);
            }
        });
        if (!word.isEmpty()) {
            words.add(word.toString());
        }
        return words;
    }

    /** Greedy longest match from the left; a word with any unmatched part is one unknown token. */
    private void wordPieces(String word, List<Token> out) {
        int[] boundaries = word.codePoints().map(Character::charCount).toArray();
        if (boundaries.length > maxCharactersPerWord) {
            out.add(new Token(unknownId, tokens[unknownId]));
            return;
        }
        int[] offsets = new int[boundaries.length + 1];
        for (int i = 0; i < boundaries.length; i++) {
            offsets[i + 1] = offsets[i] + boundaries[i];
        }
        int mark = out.size();
        int start = 0;
        while (start < boundaries.length) {
            int end = boundaries.length;
            Integer id = null;
            String piece = null;
            while (end > start) {
                piece = word.substring(offsets[start], offsets[end]);
                if (start > 0) {
                    piece = continuationPrefix + piece;
                }
                id = vocabulary.get(piece);
                if (id != null) {
                    break;
                }
                end--;
            }
            if (id == null) {
                out.subList(mark, out.size()).clear();
                out.add(new Token(unknownId, tokens[unknownId]));
                return;
            }
            out.add(new Token(id, piece));
            start = end;
        }
    }

    /** Unicode's White_Space property (Rust's {@code char::is_whitespace}), which Java's isWhitespace is not. */
    static boolean isWhitespace(int c) {
        return c >= 0x09 && c <= 0x0D || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || c >= 0x2000 && c <= 0x200A || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F
                || c == 0x3000;
    }

    /**
     * Unicode's "other" categories as the Rust library's tables have them: Cc, Cf, Co and Cs, tab and line
     * breaks excepted. Its Cn table is empty, so unassigned code points stay (and become unknown tokens).
     */
    private static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r' || UnicodeEight.assignedLater(c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** ASCII punctuation (symbols such as $ and + included) and Unicode 8.0's punctuation categories. */
    private static boolean isPunctuation(int c) {
        if (c >= 33 && c <= 47 || c >= 58 && c <= 64 || c >= 91 && c <= 96 || c >= 123 && c <= 126) {
            return true;
        }
        if (UnicodeEight.assignedLater(c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** The CJK ideograph blocks BERT spaces out. */
    private static boolean isChineseCharacter(int c) {
        return c >= 0x4E00 && c <= 0x9FFF || c >= 0x3400 && c <= 0x4DBF || c >= 0x20000 && c <= 0x2A6DF
                || c >= 0x2A700 && c <= 0x2B73F || c >= 0x2B740 && c <= 0x2B81F || c >= 0x2B920 && c <= 0x2CEAF
                || c >= 0xF900 && c <= 0xFAFF || c >= 0x2F800 && c <= 0x2FA1F;
    }

    private int idOf(String token, String source) {
        Integer id = vocabulary.get(token);
        if (id == null) {
            throw new TokenizerException(source + ": token \"" + token + "\" is not in the vocabulary");
        }
        return id;
    }

    private static JsonNode require(JsonNode node, String field, String source) {
        JsonNode value = node.path(field);
        if (value.isMissingNode() || value.isNull()) {
            throw new TokenizerException(source + ": no \"" + field + "\"; is it a Hugging Face tokenizer.json?");
        }
        return value;
    }

    private static Template template(JsonNode pieces, JsonNode specialTokens, String source) {
        List<Piece> parsed = new ArrayList<>();
        for (JsonNode piece : pieces) {
            if (piece.has("Sequence")) {
                JsonNode sequence = piece.get("Sequence");
                parsed.add(new Piece("B".equals(sequence.path("id").asText()) ? 1 : 0, null, null,
                        sequence.path("type_id").asInt()));
            } else if (piece.has("SpecialToken")) {
                JsonNode special = piece.get("SpecialToken");
                JsonNode definition = specialTokens.path(special.path("id").asText());
                if (!definition.isObject()) {
                    throw new TokenizerException(source + ": the template names special token "
                            + special.path("id") + ", which special_tokens does not define");
                }
                int[] ids = new int[definition.path("ids").size()];
                String[] texts = new String[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = definition.path("ids").get(i).asInt();
                    texts[i] = definition.path("tokens").path(i).asText(special.path("id").asText());
                }
                parsed.add(new Piece(-1, ids, texts, special.path("type_id").asInt()));
            } else {
                throw new TokenizerException(source + ": unknown template piece " + piece);
            }
        }
        return new Template(List.copyOf(parsed));
    }

    private static Piece special(JsonNode tokenAndId, int typeId, String source) {
        if (!tokenAndId.isArray() || tokenAndId.size() != 2) {
            throw new TokenizerException(source + ": BertProcessing needs [token, id] pairs, not " + tokenAndId);
        }
        return new Piece(-1, new int[] {tokenAndId.get(1).asInt()}, new String[] {tokenAndId.get(0).asText()},
                typeId);
    }
}
