"""Layers and models built from autograd ops: from Linear up to BERT."""
from . import init
from .attention import MultiHeadAttention, SublayerOutput
from .bert import BertConfig, BertEmbeddings, BertModel, Pooler, count_parameters, parameter_breakdown
from .encoder_decoder import EncoderDecoder
from .heads import (BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, MaskedLMHead,
                    NextSentenceHead, SequenceClassificationHead, SpanQAHead)
from .layers import GELU, Dropout, Embedding, LayerNorm, Linear, ModuleDict, ModuleList, Sequential
from .module import Module, Parameter
from .transformer import DecoderLayer, EncoderLayer, FeedForward

__all__ = ["GELU", "Dropout", "Embedding", "LayerNorm", "Linear", "Module", "ModuleDict", "ModuleList",
           "Parameter", "Sequential", "init",
           "MultiHeadAttention", "SublayerOutput", "FeedForward", "EncoderLayer", "DecoderLayer",
           "BertConfig", "BertEmbeddings", "BertModel", "Pooler", "count_parameters", "parameter_breakdown",
           "MaskedLMHead", "NextSentenceHead", "SequenceClassificationHead", "SpanQAHead",
           "BertForPreTraining", "BertForSequenceClassification", "BertForQuestionAnswering",
           "EncoderDecoder"]
from .rnn import LSTM, RNN, LSTMCell, RNNCell, RNNClassifier, RNNLanguageModel  # noqa: E402
__all__ += ["LSTM", "LSTMCell", "RNN", "RNNCell", "RNNClassifier", "RNNLanguageModel"]
