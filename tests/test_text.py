"""Text tools: pad_sequences (Keras's semantics), Vocabulary/CharVocabulary, TextVectorization
(adapt, ordering, max_tokens, OOV, output modes) and the legacy Tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shendu as sd
from shendu.keras.layers import TextVectorization as KerasTextVectorization
from shendu.keras.preprocessing.sequence import pad_sequences as prep_pad_sequences
from shendu.keras.preprocessing.text import Tokenizer as KerasTokenizer
from shendu.keras.utils import pad_sequences as utils_pad_sequences
from shendu.text import (
    CharVocabulary,
    TextVectorization,
    Tokenizer,
    Vocabulary,
    pad_sequences,
    text_to_word_sequence,
    tokenizer_from_json,
)

SEQS = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]


# -- pad_sequences ---------------------------------------------------------------------------
def test_pad_sequences_defaults_are_pre():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32 and out.shape == (4, 5)
    np.testing.assert_array_equal(out, [[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [6, 7, 8, 9, 10],
                                        [0, 0, 0, 0, 0]])


@pytest.mark.parametrize("padding,truncating,expected", [
    ("pre", "pre", [[1, 2, 3], [0, 4, 5], [8, 9, 10], [0, 0, 0]]),
    ("pre", "post", [[1, 2, 3], [0, 4, 5], [6, 7, 8], [0, 0, 0]]),
    ("post", "pre", [[1, 2, 3], [4, 5, 0], [8, 9, 10], [0, 0, 0]]),
    ("post", "post", [[1, 2, 3], [4, 5, 0], [6, 7, 8], [0, 0, 0]]),
])
def test_pad_sequences_padding_truncating_combinations(padding, truncating, expected):
    out = pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating)
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_value_dtype_maxlen_and_steps():
    out = pad_sequences([[1.5, 2.5], [3.5]], dtype="float32", value=-1.0, padding="post")
    np.testing.assert_array_equal(out, np.array([[1.5, 2.5], [3.5, -1.0]], np.float32))
    assert out.dtype == np.float32
    assert pad_sequences([[1.7]], maxlen=2).tolist() == [[0, 1]]  # cast like Keras
    assert pad_sequences(SEQS, maxlen=0).shape == (4, 0)
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences([np.array([3, 4])], maxlen=4).tolist() == [[0, 0, 3, 4]]
    steps = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]], maxlen=3)  # multi-feature steps
    assert steps.shape == (2, 3, 2)
    np.testing.assert_array_equal(steps[1], [[0, 0], [0, 0], [5, 6]])
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="element 1"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences(SEQS, maxlen=-1)
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="sequence 1"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


def test_pad_sequences_is_exposed_where_keras_has_it():
    assert utils_pad_sequences is pad_sequences and prep_pad_sequences is pad_sequences
    assert sd.keras.preprocessing.sequence.pad_sequences is pad_sequences


# -- vocabularies ----------------------------------------------------------------------------
def test_vocabulary_order_limits_and_lookup():
    counts = {"b": 3, "a": 3, "c": 1, "d": 2, "e": 1}
    v = Vocabulary.from_counts(counts)
    # most frequent first; ties by the token, descending (Keras's lexsort[::-1])
    assert v.get_vocabulary() == ["", "[UNK]", "b", "a", "d", "e", "c"]
    assert v.mask_index == 0 and v.oov_index == 1 and len(v) == 7
    assert Vocabulary.from_counts(counts, max_tokens=4).get_vocabulary() == ["", "[UNK]", "b",
                                                                            "a"]
    assert Vocabulary.from_counts(counts, min_freq=2).get_vocabulary(False) == ["b", "a", "d"]
    assert v.lookup("zebra") == 1 and v["a"] == 3 and "d" in v
    np.testing.assert_array_equal(v.encode(["a", "zzz", "c"]), [3, 1, 6])
    assert v.decode([3, 0, 1, 0]) == ["a", "[UNK]"]
    assert v.decode([3, 0], skip_mask=False) == ["a", ""]
    plain = Vocabulary.build([["x", "y"], ["y"]], mask_token=None, oov_token=None)
    assert plain.get_vocabulary() == ["y", "x"]
    with pytest.raises(KeyError, match="no OOV token"):
        plain.lookup("z")


def test_vocabulary_errors_and_json_round_trip(tmp_path):
    with pytest.raises(ValueError, match="repeats"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match="special token"):
        Vocabulary(["a", "[UNK]"])
    with pytest.raises(ValueError, match="max_tokens"):
        Vocabulary.from_counts({"a": 1}, max_tokens=2)
    with pytest.raises(ValueError, match="min_freq"):
        Vocabulary.from_counts({"a": 1}, min_freq=0)
    with pytest.raises(TypeError, match="sequences of tokens"):
        Vocabulary.build(["a sentence"])
    with pytest.raises(IndexError, match="out of range"):
        Vocabulary(["a"]).lookup_token(9)
    v = Vocabulary(["", "[UNK]", "hello", "world"])  # specials given first are accepted
    assert v.get_vocabulary(False) == ["hello", "world"]
    v.save(tmp_path / "vocab.json")
    assert Vocabulary.load(tmp_path / "vocab.json") == v
    (tmp_path / "bad.json").write_text(json.dumps({"class_name": "Pickle", "config": {}}))
    with pytest.raises(ValueError, match="not a saved shendu vocabulary"):
        Vocabulary.load(tmp_path / "bad.json")


def test_char_vocabulary_round_trip_for_a_char_lm(tmp_path):
    text = "to be, or not to be: that is the question."
    v = Vocabulary.from_chars(text)
    assert isinstance(v, CharVocabulary)
    assert set(v.get_vocabulary(False)) == set(text)
    assert v.get_vocabulary(False)[0] == " "  # the most frequent character
    ids = v.encode(text)
    assert ids.dtype == np.int64 and ids.min() >= 2
    assert v.decode(ids) == text
    assert v.decode(pad_sequences([ids], maxlen=len(text) + 5)[0]) == text  # padding dropped
    assert v.decode(v.encode("toqz")) == "toq[UNK]"
    v.save(tmp_path / "chars.json")
    back = Vocabulary.load(tmp_path / "chars.json")
    assert isinstance(back, CharVocabulary) and back.decode(ids) == text
    with pytest.raises(ValueError, match="one character"):
        CharVocabulary(["ab"])
    bare = Vocabulary.from_chars(["ab", "b"], mask_token=None, oov_token=None)
    assert bare.get_vocabulary() == ["b", "a"] and bare.decode(bare.encode("ab")) == "ab"


# -- TextVectorization -----------------------------------------------------------------------
DOCS = ["foo bar", "bar baz", "baz bada boom"]


def test_text_vectorization_keras_docstring_example():
    layer = TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(DOCS)
    out = layer([["foo qux bar"], ["qux baz"]])
    assert isinstance(out, sd.Tensor) and out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert layer.get_vocabulary() == ["", "[UNK]", "baz", "bar", "foo", "boom", "bada"]
    assert layer.vocabulary_size() == 7
    assert layer.get_vocabulary(include_special_tokens=False)[0] == "baz"
    given = KerasTextVectorization(max_tokens=5000, output_sequence_length=4,
                                   vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_text_vectorization_standardize_split_pad_and_truncate():
    layer = TextVectorization()
    layer.adapt(["The cat; the DOG!", "the cat's toy"])
    # lowercased, punctuation stripped ("cat's" -> "cats"), frequency order
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "toy", "dog", "cats", "cat"]
    out = layer(["THE dog", "a cat, the toy"]).numpy()  # padded to the longest, at the end
    np.testing.assert_array_equal(out, [[2, 4, 0, 0], [1, 6, 2, 3]])
    short = TextVectorization(output_sequence_length=2, vocabulary=layer.get_vocabulary())
    np.testing.assert_array_equal(short(["the toy dog"]).numpy(), [[2, 3]])  # cut at the end
    np.testing.assert_array_equal(layer("the dog").numpy(), [2, 4])  # one string -> 1-D
    chars = TextVectorization(split="character", standardize=None)
    chars.adapt(["abba"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a"]
    raw = TextVectorization(standardize="lower", split=None)
    raw.adapt(["New York", "new york", "Paris"])
    assert raw.get_vocabulary(False) == ["new york", "paris"]
    custom = TextVectorization(standardize=lambda s: s.replace("-", " "), split=str.split)
    custom.adapt(["well-known fact"])
    assert sorted(custom.get_vocabulary(False)) == ["fact", "known", "well"]


def test_text_vectorization_max_tokens_oov_and_ngrams():
    layer = TextVectorization(max_tokens=4)  # "" and [UNK] + 2 learned tokens
    layer.adapt(["a a a b b c", "c c c d"])
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "a"]
    np.testing.assert_array_equal(layer(["a b c d e"]).numpy(), [[3, 1, 2, 1, 1]])
    grams = TextVectorization(ngrams=2)
    grams.adapt(["x y z"])
    assert set(grams.get_vocabulary(False)) == {"x", "y", "z", "x y", "y z"}
    assert grams(["x y z"]).numpy().shape == (1, 5)
    pairs = TextVectorization(ngrams=(2,))
    pairs.adapt(["x y z"])
    assert sorted(pairs.get_vocabulary(False)) == ["x y", "y z"]


def test_text_vectorization_adapt_from_batches_and_steps():
    layer = TextVectorization()
    layer.adapt(iter([["a b"], ["b c"], ["z z z z"]]), steps=2)  # the third batch is skipped
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "c", "a"]
    layer.adapt(np.array(["q"]))  # adapt again replaces the vocabulary
    assert layer.get_vocabulary() == ["", "[UNK]", "q"]


def test_text_vectorization_vector_modes():
    docs = ["a b b", "b c"]
    multi = TextVectorization(output_mode="multi_hot")
    multi.adapt(docs)
    assert multi.get_vocabulary() == ["[UNK]", "b", "c", "a"]  # no padding token here
    out = multi(["b b x", "a"])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), [[1, 1, 0, 0], [0, 0, 0, 1]])
    count = TextVectorization(output_mode="count", vocabulary=multi.get_vocabulary())
    np.testing.assert_array_equal(count(["b b x y"]).numpy(), [[2, 2, 0, 0]])
    padded = TextVectorization(output_mode="count", max_tokens=6, pad_to_max_tokens=True)
    padded.adapt(docs)
    assert padded(["a"]).numpy().shape == (1, 6)
    assert padded.compute_output_shape((None,)) == (None, 6)
    tfidf = TextVectorization(output_mode="tf_idf")
    tfidf.adapt(docs)
    idf_b, idf_c = np.log(1 + 2 / 3), np.log(1 + 2 / 2)  # log(1 + N / (1 + df))
    oov = np.mean([idf_b, idf_c, idf_c])  # the OOV weight is the mean, as in Keras
    np.testing.assert_allclose(tfidf(["b b a x"]).numpy(), [[oov, 2 * idf_b, 0, idf_c]],
                               rtol=1e-6)
    with pytest.raises(RuntimeError, match="adapt"):
        TextVectorization(output_mode="count")(["a"])


def test_text_vectorization_config_round_trip_and_errors():
    layer = TextVectorization(max_tokens=10, output_mode="tf_idf", ngrams=(1, 2), name="tv")
    layer.adapt(["a b", "b c d"])
    cfg = json.loads(json.dumps(layer.get_config()))
    clone = TextVectorization(**cfg)
    assert clone.get_vocabulary() == layer.get_vocabulary()
    np.testing.assert_array_equal(clone(["a b c"]).numpy(), layer(["a b c"]).numpy())
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="max_tokens"):
        TextVectorization(max_tokens=1)
    with pytest.raises(ValueError, match="idf_weights"):
        TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(ValueError, match="padding token"):
        TextVectorization(output_mode="count", vocabulary=["a", ""])
    with pytest.raises(ValueError, match="special token"):
        TextVectorization(vocabulary=["a", ""])
    with pytest.raises(ValueError, match="more than max_tokens"):
        TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match=r"shape \(batch,\)"):
        TextVectorization()([["a", "b"]])
    with pytest.raises(TypeError, match="expects strings"):
        TextVectorization()([3])


def test_text_vectorization_feeds_an_embedding_model():
    from shendu.keras import layers as L
    from shendu.keras.models import Sequential

    vec = TextVectorization(max_tokens=20, output_sequence_length=5)
    vec.adapt(["good movie", "bad movie", "good plot bad acting"])
    ids = vec(["good acting", "bad"])
    model = Sequential([L.Embedding(20, 4, mask_zero=True, input_shape=(5,)), L.LSTM(3)])
    assert model.predict(ids.numpy()).shape == (2, 3)


# -- Tokenizer -------------------------------------------------------------------------------
def test_tokenizer_matches_keras_semantics():
    texts = ["The cat sat on the mat.", "The dog sat!", "A dog, a cat"]
    tok = KerasTokenizer()
    assert KerasTokenizer is Tokenizer
    tok.fit_on_texts(texts)
    # by count, ties in order of first appearance; index 0 is never used
    assert tok.word_index == {"the": 1, "cat": 2, "sat": 3, "dog": 4, "a": 5, "on": 6,
                              "mat": 7}
    assert tok.document_count == 3 and tok.word_docs["the"] == 2
    assert tok.texts_to_sequences(["the bird sat"]) == [[1, 3]]
    limited = Tokenizer(num_words=4, oov_token="<OOV>")
    limited.fit_on_texts(texts)
    assert limited.word_index["<OOV>"] == 1 and limited.word_index["the"] == 2
    # ids >= num_words become the OOV id; word_index itself is not cut
    assert limited.texts_to_sequences(["the cat on a bird"]) == [[2, 3, 1, 1, 1]]
    assert limited.sequences_to_texts([[2, 3, 7]]) == ["the cat <OOV>"]
    assert text_to_word_sequence("Hello, World!  x") == ["hello", "world", "x"]
    chars = Tokenizer(char_level=True)
    chars.fit_on_texts(["aab"])
    assert chars.word_index == {"a": 1, "b": 2}


def test_tokenizer_matrices_and_json():
    tok = Tokenizer(num_words=5)
    tok.fit_on_texts(["a a b", "b c"])  # a and b both twice: a was seen first
    assert tok.word_index == {"a": 1, "b": 2, "c": 3}
    seq = [[1, 1, 2]]
    np.testing.assert_array_equal(tok.sequences_to_matrix(seq, "binary"), [[0, 1, 1, 0, 0]])
    np.testing.assert_array_equal(tok.sequences_to_matrix(seq, "count"), [[0, 2, 1, 0, 0]])
    np.testing.assert_allclose(tok.sequences_to_matrix(seq, "freq"), [[0, 2 / 3, 1 / 3, 0, 0]])
    tfidf = tok.texts_to_matrix(["a a b"], mode="tfidf")
    idf_a, idf_b = np.log(1 + 2 / 2), np.log(1 + 2 / 3)
    np.testing.assert_allclose(tfidf, [[0, (1 + np.log(2)) * idf_a, idf_b, 0, 0]])
    with pytest.raises(ValueError, match="mode"):
        tok.sequences_to_matrix(seq, "onehot")
    back = tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index and back.num_words == 5
    assert back.texts_to_sequences(["c b a"]) == tok.texts_to_sequences(["c b a"])
    np.testing.assert_array_equal(back.texts_to_matrix(["a a b"], "tfidf"), tfidf)
    with pytest.raises(ValueError, match="fit on some texts"):
        Tokenizer().texts_to_matrix(["a"])
