"""Async client for the WeCom (企业微信) and Feishu (飞书) contact-directory APIs."""

from ._core import ClientStats
from ._credentials import AuthorizedCorp, CorpApp, Provider, SuiteApp
from ._endpoint import Endpoint
from ._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    DecodeError,
    ForeignTicketError,
    HTTPStatusError,
    InputError,
    InvalidArgumentError,
    InvalidCodeError,
    InvalidTicketError,
    IPNotAllowedError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeout,
    ServerBusyError,
    SuiteTicketError,
    TicketError,
    TransportError,
    WFAError,
)
from ._limits import Quota
from ._retry import RetryPolicy
from ._tokens import MemoryTokenStore, Token, TokenStore
from ._transport import RawResponse, Transport
from .wecom import (
    FullMatchField,
    QueryRange,
    QueryResult,
    QueryType,
    SearchPage,
    SearchQuery,
    WeComClient,
)
from .wecom.messages import MiniProgramLink, SelectedTicketUsers, TemplateMessage
from .wecom.miniprogram import MiniProgramSession
from .wecom.picker import (
    PickedUser,
    PickerContextRequiresMultiMode,
    PickerError,
    PickerOptions,
    PickerResult,
    PickerUnsupportedContext,
    decode_picker_result,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AuthError",
    "AuthorizedCorp",
    "ClientStats",
    "ConfigurationError",
    "CorpApp",
    "DecodeError",
    "Endpoint",
    "ForeignTicketError",
    "FullMatchField",
    "HTTPStatusError",
    "IPNotAllowedError",
    "InputError",
    "InvalidArgumentError",
    "InvalidCodeError",
    "InvalidTicketError",
    "MemoryTokenStore",
    "MiniProgramLink",
    "MiniProgramSession",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "PickedUser",
    "PickerContextRequiresMultiMode",
    "PickerError",
    "PickerOptions",
    "PickerResult",
    "PickerUnsupportedContext",
    "Provider",
    "QueryRange",
    "QueryResult",
    "QueryType",
    "Quota",
    "RateLimitedError",
    "RawResponse",
    "RequestTimeout",
    "RetryPolicy",
    "SearchPage",
    "SearchQuery",
    "SelectedTicketUsers",
    "ServerBusyError",
    "SuiteApp",
    "SuiteTicketError",
    "TemplateMessage",
    "TicketError",
    "Token",
    "TokenStore",
    "Transport",
    "TransportError",
    "WFAError",
    "WeComClient",
    "__version__",
    "decode_picker_result",
]
