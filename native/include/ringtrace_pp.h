/* Preprocessor iteration for ringtrace.h (not an API of its own): apply a macro
 * to each field of an event, skipping empty ones, so RT_EVENT(p, n) and a
 * trailing comma work in every C99 preprocessor. Up to 64 fields, as in the
 * JavaScript API. */
#ifndef RINGTRACE_PP_H
#define RINGTRACE_PP_H

#define RT__CAT(a, b) RT__CAT_(a, b)
#define RT__CAT_(a, b) a##b
#define RT__CALL(f, args) f args
#define RT__UNPAREN(...) __VA_ARGS__

/* RT__IS_PAREN(x): 1 if x is a parenthesized list (a field), 0 if empty. */
#define RT__PROBE_PAREN(...) ~, 1
#define RT__SECOND(a, b, ...) b
#define RT__SECOND_OF(...) RT__SECOND(__VA_ARGS__, ~)
#define RT__IS_PAREN(x) RT__SECOND_OF(RT__PROBE_PAREN x, 0)
#define RT__IF(c) RT__CAT(RT__IF_, c)
#define RT__IF_1(...) __VA_ARGS__
#define RT__IF_0(...)
/* RT__IF_ELSE(c)(then)(else) */
#define RT__IF_ELSE(c) RT__CAT(RT__IF_ELSE_, c)
#define RT__IF_ELSE_1(...) __VA_ARGS__ RT__IF_0
#define RT__IF_ELSE_0(...) RT__IF_1
#define RT__FIRST(...) RT__FIRST_(__VA_ARGS__, ~)
#define RT__FIRST_(a, ...) a

/* f(first, type, name) for each field (type, name); first is 1 for the first one. */
#define RT__APPLY(f, first, x) RT__IF(RT__IS_PAREN(x))(RT__CALL(f, (first, RT__UNPAREN x)))
#define RT__NARGS(...) RT__NARGS_(__VA_ARGS__, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, ~)
#define RT__NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47, _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62, _63, _64, n, ...) n
#define RT__MAP(f, ...) RT__CAT(RT__MAP_, RT__NARGS(__VA_ARGS__))(f, 1, __VA_ARGS__)
#define RT__MAP_1(f, i, x) RT__APPLY(f, i, x)
#define RT__MAP_2(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_1(f, 0, __VA_ARGS__)
#define RT__MAP_3(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_2(f, 0, __VA_ARGS__)
#define RT__MAP_4(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_3(f, 0, __VA_ARGS__)
#define RT__MAP_5(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_4(f, 0, __VA_ARGS__)
#define RT__MAP_6(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_5(f, 0, __VA_ARGS__)
#define RT__MAP_7(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_6(f, 0, __VA_ARGS__)
#define RT__MAP_8(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_7(f, 0, __VA_ARGS__)
#define RT__MAP_9(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_8(f, 0, __VA_ARGS__)
#define RT__MAP_10(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_9(f, 0, __VA_ARGS__)
#define RT__MAP_11(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_10(f, 0, __VA_ARGS__)
#define RT__MAP_12(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_11(f, 0, __VA_ARGS__)
#define RT__MAP_13(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_12(f, 0, __VA_ARGS__)
#define RT__MAP_14(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_13(f, 0, __VA_ARGS__)
#define RT__MAP_15(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_14(f, 0, __VA_ARGS__)
#define RT__MAP_16(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_15(f, 0, __VA_ARGS__)
#define RT__MAP_17(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_16(f, 0, __VA_ARGS__)
#define RT__MAP_18(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_17(f, 0, __VA_ARGS__)
#define RT__MAP_19(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_18(f, 0, __VA_ARGS__)
#define RT__MAP_20(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_19(f, 0, __VA_ARGS__)
#define RT__MAP_21(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_20(f, 0, __VA_ARGS__)
#define RT__MAP_22(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_21(f, 0, __VA_ARGS__)
#define RT__MAP_23(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_22(f, 0, __VA_ARGS__)
#define RT__MAP_24(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_23(f, 0, __VA_ARGS__)
#define RT__MAP_25(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_24(f, 0, __VA_ARGS__)
#define RT__MAP_26(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_25(f, 0, __VA_ARGS__)
#define RT__MAP_27(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_26(f, 0, __VA_ARGS__)
#define RT__MAP_28(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_27(f, 0, __VA_ARGS__)
#define RT__MAP_29(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_28(f, 0, __VA_ARGS__)
#define RT__MAP_30(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_29(f, 0, __VA_ARGS__)
#define RT__MAP_31(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_30(f, 0, __VA_ARGS__)
#define RT__MAP_32(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_31(f, 0, __VA_ARGS__)
#define RT__MAP_33(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_32(f, 0, __VA_ARGS__)
#define RT__MAP_34(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_33(f, 0, __VA_ARGS__)
#define RT__MAP_35(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_34(f, 0, __VA_ARGS__)
#define RT__MAP_36(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_35(f, 0, __VA_ARGS__)
#define RT__MAP_37(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_36(f, 0, __VA_ARGS__)
#define RT__MAP_38(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_37(f, 0, __VA_ARGS__)
#define RT__MAP_39(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_38(f, 0, __VA_ARGS__)
#define RT__MAP_40(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_39(f, 0, __VA_ARGS__)
#define RT__MAP_41(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_40(f, 0, __VA_ARGS__)
#define RT__MAP_42(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_41(f, 0, __VA_ARGS__)
#define RT__MAP_43(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_42(f, 0, __VA_ARGS__)
#define RT__MAP_44(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_43(f, 0, __VA_ARGS__)
#define RT__MAP_45(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_44(f, 0, __VA_ARGS__)
#define RT__MAP_46(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_45(f, 0, __VA_ARGS__)
#define RT__MAP_47(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_46(f, 0, __VA_ARGS__)
#define RT__MAP_48(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_47(f, 0, __VA_ARGS__)
#define RT__MAP_49(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_48(f, 0, __VA_ARGS__)
#define RT__MAP_50(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_49(f, 0, __VA_ARGS__)
#define RT__MAP_51(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_50(f, 0, __VA_ARGS__)
#define RT__MAP_52(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_51(f, 0, __VA_ARGS__)
#define RT__MAP_53(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_52(f, 0, __VA_ARGS__)
#define RT__MAP_54(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_53(f, 0, __VA_ARGS__)
#define RT__MAP_55(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_54(f, 0, __VA_ARGS__)
#define RT__MAP_56(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_55(f, 0, __VA_ARGS__)
#define RT__MAP_57(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_56(f, 0, __VA_ARGS__)
#define RT__MAP_58(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_57(f, 0, __VA_ARGS__)
#define RT__MAP_59(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_58(f, 0, __VA_ARGS__)
#define RT__MAP_60(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_59(f, 0, __VA_ARGS__)
#define RT__MAP_61(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_60(f, 0, __VA_ARGS__)
#define RT__MAP_62(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_61(f, 0, __VA_ARGS__)
#define RT__MAP_63(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_62(f, 0, __VA_ARGS__)
#define RT__MAP_64(f, i, x, ...) RT__APPLY(f, i, x) RT__MAP_63(f, 0, __VA_ARGS__)

#endif
