"""Featurizers: Spark ML stages that turn review_text into a `features` vector.

tfidf (the light one, pure Spark): lower-cased words and `!`/`?` (RegexTokenizer `\\w+|[!?]`), plus word
bigrams, hashed into 2^18 term counts, weighted by IDF. Measured on the UCI sentences it equals
scikit-learn's TF-IDF + logistic regression (docs/ml.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.ml import Pipeline

TOKEN_PATTERN = r"\w+|[!?]"


def tfidf(text_col: str = "review_text", num_features: int = 1 << 18) -> Pipeline:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import IDF, HashingTF, NGram, RegexTokenizer, SQLTransformer

    from lakectl.core.sql import quote_ident

    return Pipeline(
        stages=[
            # a NULL text scores like an empty one instead of failing the tokenizer
            SQLTransformer(statement=f"SELECT *, coalesce({quote_ident(text_col)}, '') AS _text FROM __THIS__"),
            RegexTokenizer(inputCol="_text", outputCol="_words", pattern=TOKEN_PATTERN, gaps=False, toLowercase=True),
            NGram(n=2, inputCol="_words", outputCol="_bigrams"),
            SQLTransformer(statement="SELECT *, concat(_words, _bigrams) AS _terms FROM __THIS__"),
            HashingTF(inputCol="_terms", outputCol="_tf", numFeatures=num_features),
            IDF(inputCol="_tf", outputCol="features"),
        ]
    )


FEATURIZERS = {"tfidf": tfidf}
