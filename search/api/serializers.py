from rest_framework import serializers

from inbox.api.filters import CONVERSATION_FILTERS
from inbox.api.serializers import ContactRefSerializer, ConversationSerializer, IdentitySerializer
from inbox.models import Team
from search.models import MAX_QUERY_LENGTH, SavedView


class MatchSerializer(serializers.Serializer):
    """The conversation's best matching message."""

    message_id = serializers.IntegerField()
    snippet_html = serializers.CharField(help_text="HTML-escaped text; only <mark> elements around the matched words")
    words = serializers.ListField(child=serializers.CharField(), help_text="the matched words, as written")
    channel = serializers.CharField()
    kind = serializers.CharField()
    direction = serializers.CharField()
    created_at = serializers.DateTimeField()


class SearchResultSerializer(serializers.Serializer):
    conversation = ConversationSerializer()
    match = MatchSerializer()


class ContactMatchSerializer(serializers.Serializer):
    contact = ContactRefSerializer()
    identities = IdentitySerializer(many=True, help_text="the contact's identities that match the search")


class SearchPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    count = serializers.IntegerField(help_text="conversations found")
    count_capped = serializers.BooleanField(help_text="more matched than were ranked: `count` is a lower bound")
    hints = serializers.ListField(child=serializers.CharField())
    results = SearchResultSerializer(many=True)
    contacts = ContactMatchSerializer(many=True, help_text="first page only")


class SavedViewSerializer(serializers.ModelSerializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False,
                                              help_text="share with this team; null: only yours")
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, allow_blank=True, required=False, default="")
    filters = serializers.DictField(child=serializers.CharField(max_length=100, allow_blank=True), required=False,
                                    help_text=f"the list's filters: {', '.join(CONVERSATION_FILTERS)}")
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    count = serializers.IntegerField(read_only=True, help_text="conversations it finds for you now")
    count_capped = serializers.BooleanField(read_only=True)

    class Meta:
        model = SavedView
        fields = ["id", "name", "q", "filters", "team", "owner", "count", "count_capped", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_filters(self, filters: dict) -> dict:
        unknown = sorted(set(filters) - set(CONVERSATION_FILTERS))
        if unknown:
            raise serializers.ValidationError(f"Unknown filters: {', '.join(unknown)}. Use {', '.join(CONVERSATION_FILTERS)}.")
        return {name: value for name, value in filters.items() if value}
